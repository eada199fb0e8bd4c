"""Collections services: assign accounts, log contacts and promises to pay, judge promises.

Services add and flush; the route commits. Every change writes an audit event.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from portal.accounts.models import Account, EntryKind, LedgerEntry
from portal.audit.services import record
from portal.collections import promise_rules
from portal.collections.models import (AccountAssignment, ContactChannel, ContactDirection,
                                       ContactLog, ContactOutcome, PromiseSource, PromiseToPay)
from portal.collections.rules import promise_status
from portal.domain.dates import local_date
from portal.extensions import db
from portal.policy.services import UnknownProfile, policy_for
from portal.staff.models import Role, StaffRole, StaffUser
from portal.timeutil import as_aware, utcnow


class CollectionsError(Exception):
    """A request the collections rules refuse; `code` says which rule."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def collectors(active_only: bool = True) -> list[StaffUser]:
    """Staff holding the collector role, by name (switched-off ones only if asked)."""
    query = select(StaffUser).join(StaffRole).where(StaffRole.role == Role.COLLECTOR)
    if active_only:
        query = query.where(StaffUser.active.is_(True))
    return list(db.session.scalars(query.order_by(StaffUser.name, StaffUser.id)))


def current_assignments(account_ids) -> dict[int, AccountAssignment]:
    """The open assignment of each of these accounts that has one."""
    ids = list(account_ids)
    if not ids:
        return {}
    return {a.account_id: a for a in db.session.scalars(select(AccountAssignment).where(
        AccountAssignment.account_id.in_(ids), AccountAssignment.ended_at.is_(None)))}


def assign(account_ids, collector_id: int | None, by: StaffUser,
           now: datetime | None = None) -> int:
    """Give each account to the collector `collector_id` (None: to no one) and return how many
    changed. A current assignment to someone else is closed at `now` and a new one opened;
    an account already with that collector is left as it is. Raises CollectionsError
    ("not_a_collector", "unknown_account", "nothing_selected")."""
    now = now or utcnow()
    ids = sorted({int(i) for i in account_ids})
    if not ids:
        raise CollectionsError("nothing_selected")
    if collector_id is not None:
        target = db.session.get(StaffUser, collector_id)
        if target is None or not target.active or not target.has_role(Role.COLLECTOR):
            raise CollectionsError("not_a_collector")
    accounts = list(db.session.scalars(select(Account).where(Account.id.in_(ids))
                                       .order_by(Account.id)))
    if len(accounts) != len(ids):
        raise CollectionsError("unknown_account")
    current = current_assignments(ids)
    changed = 0
    for account in accounts:
        old = current.get(account.id)
        before = old.collector_id if old else None
        if before == collector_id:
            continue
        if old is not None:
            old.ended_at, old.ended_by_id = now, by.id
            db.session.flush()  # closed before the new one opens: one open row per account
        if collector_id is not None:
            db.session.add(AccountAssignment(account_id=account.id, collector_id=collector_id,
                                             assigned_by_id=by.id, assigned_at=now))
            db.session.flush()
        record("collections.assigned" if collector_id else "collections.unassigned",
               subject=account, before={"collector_id": before},
               after={"collector_id": collector_id})
        changed += 1
    return changed


def assignment_history(account_id: int) -> list[AccountAssignment]:
    """Every assignment the account ever had, oldest first."""
    return list(db.session.scalars(select(AccountAssignment).where(
        AccountAssignment.account_id == account_id).order_by(AccountAssignment.assigned_at,
                                                             AccountAssignment.id)))


def may_work(staff: StaffUser, account_id: int) -> bool:
    """Managers work any account; a collector only the accounts assigned to them now."""
    if staff.has_role(Role.COLLECTIONS_MANAGER):
        return True
    if not staff.has_role(Role.COLLECTOR):
        return False
    return db.session.scalar(select(AccountAssignment.id).where(
        AccountAssignment.account_id == account_id, AccountAssignment.collector_id == staff.id,
        AccountAssignment.ended_at.is_(None))) is not None


@dataclass(frozen=True)
class Promise:
    amount: int  # minor units of the account's currency
    promised_on: date


def log_contact(account: Account, staff: StaffUser, *, channel: ContactChannel,
                direction: ContactDirection, outcome: ContactOutcome, note: str,
                occurred_at: datetime, promise: Promise | None = None,
                now: datetime | None = None) -> ContactLog:
    """Append a contact (and the promise to pay made in it) to the account's record.

    Refuses (CollectionsError): staff who may not work the account ("not_assigned"), a
    contact in the future ("future"), a promise dated before the contact's day in the
    cardholder's time zone ("promise_before_contact") or of no amount ("promise_amount").
    """
    now = now or utcnow()
    occurred_at = as_aware(occurred_at)
    if not may_work(staff, account.id):
        raise CollectionsError("not_assigned")
    if occurred_at > now:
        raise CollectionsError("future")
    made_on = local_date(occurred_at, account.cardholder.timezone)
    if promise is not None:
        if promise.amount <= 0:
            raise CollectionsError("promise_amount")
        if promise.promised_on < made_on:
            raise CollectionsError("promise_before_contact")
    contact = ContactLog(account_id=account.id, staff_id=staff.id, channel=channel,
                         direction=direction, outcome=outcome, note=(note or "").strip(),
                         occurred_at=occurred_at, created_at=now)
    db.session.add(contact)
    db.session.flush()
    after = {"channel": channel.value, "direction": direction.value, "outcome": outcome.value,
             "occurred_at": occurred_at.isoformat()}
    if promise is not None:
        # The same grace as a promise made online: payments count, and escalation stays
        # paused, until the promised date plus the policy's grace days.
        grace = promises_policy(account.policy_profile, made_on).grace_days
        row = PromiseToPay(made_by=PromiseSource.COLLECTOR, contact_id=contact.id,
                           account_id=account.id, staff_id=staff.id, amount=promise.amount,
                           currency=account.currency, made_on=made_on,
                           promised_on=promise.promised_on, grace_days=grace,
                           last_day=promise_rules.last_day(promise.promised_on, grace),
                           created_at=now)
        db.session.add(row)
        db.session.flush()
        after["promise"] = {"amount": promise.amount, "currency": account.currency,
                            "promised_on": promise.promised_on.isoformat(),
                            "last_day": row.last_day.isoformat()}
    record("collections.contact_logged", subject=contact, after=after)
    return contact


def promises_policy(profile: str | None, as_of: date) -> promise_rules.PromisePolicy:
    """The "promises" section in force for `profile` on `as_of` (defaults for what it lacks,
    and for an unknown profile)."""
    try:
        section = policy_for(profile, as_of).section("promises") if profile else None
    except UnknownProfile:
        section = None
    return promise_rules.PromisePolicy.from_section(section)


def paid_by(entry, original):
    """What a ledger row `entry` (joined to the row it reverses as `original`, outer) paid,
    positive = paid, and the condition that it is money the cardholder paid: a payment, or
    the reversal of one (a refund or chargeback). Both entries may be aliases."""
    return -entry.amount, or_(entry.kind == EntryKind.PAYMENT,
                              and_(entry.kind == EntryKind.REVERSAL,
                                   original.kind == EntryKind.PAYMENT))


def payments_posted():
    """Money the cardholder paid, per ledger row (`paid_by`): payments, less reversals of
    payments. Columns: account_id, effective_date, paid (positive = paid)."""
    original = aliased(LedgerEntry)
    paid, counted = paid_by(LedgerEntry, original)
    return (select(LedgerEntry.account_id, LedgerEntry.effective_date, paid.label("paid"))
            .outerjoin(original, original.id == LedgerEntry.reversal_of_id)
            .where(counted)
            .subquery())


def promise_paid_query():
    """(promise id, amount paid towards it) for every promise, in one grouped query."""
    paid = payments_posted()
    return (select(PromiseToPay.id.label("promise_id"),
                   func.coalesce(func.sum(paid.c.paid), 0).label("paid"))
            .outerjoin(paid, and_(paid.c.account_id == PromiseToPay.account_id,
                                  paid.c.effective_date >= PromiseToPay.made_on,
                                  paid.c.effective_date <= PromiseToPay.last_day))
            .group_by(PromiseToPay.id))


@dataclass(frozen=True)
class ContactView:
    contact: ContactLog
    promise: PromiseToPay | None
    paid: int
    status: str | None  # kept | broken | pending, for a promise


def account_contacts(account: Account, today: date) -> list[ContactView]:
    """The account's contacts, newest first, each with its promise judged as of `today`."""
    contacts = list(db.session.scalars(select(ContactLog).where(
        ContactLog.account_id == account.id).order_by(ContactLog.occurred_at.desc(),
                                                      ContactLog.id.desc())))
    promises = {p.contact_id: p for p in db.session.scalars(
        select(PromiseToPay).where(PromiseToPay.account_id == account.id))}
    paid = {pid: int(v) for pid, v in db.session.execute(
        promise_paid_query().where(PromiseToPay.account_id == account.id))}
    staff_ids = {c.staff_id for c in contacts}
    if staff_ids:  # names in one query rather than one per contact
        db.session.scalars(select(StaffUser).where(StaffUser.id.in_(staff_ids))).all()
    views = []
    for contact in contacts:
        promise = promises.get(contact.id)
        got = paid.get(promise.id, 0) if promise else 0
        status = promise_status(promise.amount, got, promise.last_day, today) if promise else None
        views.append(ContactView(contact, promise, got, status))
    return views
