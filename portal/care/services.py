"""Recording breathing spaces and vulnerability flags, and what they freeze.

- `care_pause` (with `accounts_with_care` and `care_pauses` for batch jobs) is an
  escalation-pause provider: interest, fees and escalation freeze as the account's profile
  says (`portal.care.rules`); a late fee whose day falls in a record that freezes fees is
  waived, not charged afterwards; `portal.wiring` registers it.
- `accounts_on_hold` holds collection messages (and calls) while contact is frozen.
- `care_for` tells the cardholder's pages what is in force; it carries no reason or note.
- Reading the details (reason, note) is `records_for`, which audits every read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import Account, Cardholder
from portal.audit.services import record
from portal.care.models import CareRecord
from portal.care.rules import (BREATHING_SPACE, CONTACT, ESCALATION, FEES, INTEREST, KINDS,
                               OPEN_ENDED, REASONS, CareRules, care_rules)
from portal.consequences.pauses import Pause
from portal.domain.dates import local_date
from portal.extensions import db
from portal.policy.services import policies_for, shipped_document
from portal.timeutil import utcnow


class CareError(ValueError):
    """A record refused; `code` says why (forms turn it into a message)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CareView:
    """What the cardholder is told: the kind, since when, until when, and what is frozen."""
    kind: str
    since: date
    until: date | None
    freezes: frozenset


def rules_for(policy) -> CareRules:
    """The profile's `care` rules; a version published before the section existed uses the
    shipped profile's."""
    section = policy.section("care")
    if section is None:
        section = shipped_document(policy.profile).get("care")
    return care_rules(section)


def _rules_by_profile(profiles, as_of: date) -> dict[str, CareRules]:
    return {p: rules_for(policy) for p, policy in policies_for(profiles, as_of).items()}


def _in_force(cardholder_ids, day_of) -> dict[int, list[CareRecord]]:
    """Records in force per cardholder, on the day `day_of(cardholder_id)` gives."""
    ids = sorted(set(cardholder_ids))
    if not ids:
        return {}
    found: dict[int, list[CareRecord]] = {}
    for row in db.session.scalars(select(CareRecord).where(CareRecord.cardholder_id.in_(ids))
                                  .order_by(CareRecord.starts_on, CareRecord.id)):
        if row.in_force(day_of(row.cardholder_id)):
            found.setdefault(row.cardholder_id, []).append(row)
    return found


def _frozen(records: list[CareRecord], rules: CareRules) -> frozenset:
    return frozenset().union(*(rules.freezes_for(r.kind) for r in records))


def _shown(records: list[CareRecord]) -> CareRecord:
    """The record told first: a breathing space before a vulnerability flag."""
    return min(records, key=lambda r: (KINDS.index(r.kind), r.starts_on, r.id))


def care_pauses(accounts, as_of: date) -> dict[int, Pause]:
    """Per account id, the Pause its cardholder's care records give on `as_of` (absent when
    they freeze none of interest, fees and escalation). A fixed number of queries."""
    accounts = list(accounts)
    records = _in_force({a.cardholder_id for a in accounts}, lambda _id: as_of)
    rules = _rules_by_profile({a.policy_profile for a in accounts
                               if a.cardholder_id in records}, as_of)
    pauses = {}
    for account in accounts:
        mine = records.get(account.cardholder_id)
        if not mine:
            continue
        profile_rules = rules[account.policy_profile]
        freezes = _frozen(mine, profile_rules) & {INTEREST, FEES, ESCALATION}
        if freezes:
            shown = _shown(mine)
            # A fee frozen by care is waived, not deferred (the Breathing Space scheme: no
            # charges for the period): from the first record in force that freezes fees.
            waiving = [r.starts_on for r in mine if FEES in profile_rules.freezes_for(r.kind)]
            pauses[account.id] = Pause(reason=shown.kind, since=shown.starts_on,
                                       until=shown.last_day, full=False, freezes=freezes,
                                       waives_fees_from=min(waiving) if waiving else None)
    return pauses


def care_pause(account, as_of: date) -> Pause | None:
    return care_pauses([account], as_of).get(account.id)


def accounts_with_care(account_ids) -> set[int]:
    """Of `account_ids`, those whose cardholder has any care record (one query): the only
    accounts `care_pause` can answer for on some day."""
    if not account_ids:
        return set()
    return set(db.session.scalars(
        select(Account.id).join(CareRecord, CareRecord.cardholder_id == Account.cardholder_id)
        .where(Account.id.in_(list(account_ids))).distinct()))


def accounts_on_hold(account_ids) -> set[int]:
    """Of `account_ids`, those whose collection messages are held now: a record in force on
    the cardholder's today whose profile freezes contact (two queries and the policies)."""
    if not account_ids:
        return set()
    accounts = list(db.session.scalars(
        select(Account).options(joinedload(Account.cardholder))
        .where(Account.id.in_(list(account_ids)),
               Account.cardholder_id.in_(select(CareRecord.cardholder_id)))))
    if not accounts:
        return set()
    now = utcnow()
    today = {a.cardholder_id: local_date(now, a.cardholder.timezone) for a in accounts}
    records = _in_force(today, today.__getitem__)
    rules = _rules_by_profile({a.policy_profile for a in accounts},
                              min(today.values()))
    return {a.id for a in accounts
            if CONTACT in _frozen(records.get(a.cardholder_id, []), rules[a.policy_profile])}


def care_for(accounts, as_of: date) -> dict[int, CareView]:
    """What each account's cardholder is told about the care records in force on `as_of`."""
    accounts = list(accounts)
    records = _in_force({a.cardholder_id for a in accounts}, lambda _id: as_of)
    if not records:
        return {}
    rules = _rules_by_profile({a.policy_profile for a in accounts
                               if a.cardholder_id in records}, as_of)
    views = {}
    for account in accounts:
        mine = records.get(account.cardholder_id)
        if mine:
            shown = _shown(mine)
            views[account.id] = CareView(shown.kind, shown.starts_on, shown.last_day,
                                         _frozen(mine, rules[account.policy_profile]))
    return views


def staff_summary(account) -> dict:
    """For every staff member's account context: what is frozen and until when, without the
    kind, reason or note (those are for the roles `portal.care.access` names)."""
    today = local_date(utcnow(), account.cardholder.timezone)
    view = care_for([account], today).get(account.id)
    return {"care": view}


def records_for(account, actor_note: str = "care.viewed") -> list[CareRecord]:
    """Every care record of the account's cardholder, newest first; the read is audited."""
    rows = list(db.session.scalars(
        select(CareRecord).where(CareRecord.cardholder_id == account.cardholder_id)
        .order_by(CareRecord.starts_on.desc(), CareRecord.id.desc())))
    record(actor_note, subject=account, after={"records": [r.id for r in rows]})
    return rows


def _locked_records(cardholder_id: int) -> None:
    """Serialise changes to one cardholder's records (PostgreSQL row lock on the cardholder)."""
    db.session.execute(select(Cardholder.id).where(Cardholder.id == cardholder_id)
                       .with_for_update())


def add_record(account, staff, *, kind: str, reason: str, starts_on: date,
               ends_on: date | None, note: str | None, today: date) -> CareRecord:
    """Record a breathing space or a vulnerability flag for the account's cardholder.

    A standard breathing space without an end lasts the profile's `breathing_space_days`.
    Refused (CareError): an unknown kind or reason, a start more than 30 days back or in the
    future, an end before the start or over a year away, no end for a standard breathing
    space past the policy's length, or a second breathing space overlapping one in force.
    """
    if kind not in KINDS or reason not in REASONS[kind]:
        raise CareError("unknown_reason")
    if starts_on > today:
        raise CareError("starts_in_future")
    if starts_on < today - timedelta(days=30):
        raise CareError("starts_too_early")
    policy = policies_for([account.policy_profile], today)[account.policy_profile]
    rules = rules_for(policy)
    if ends_on is None and reason not in OPEN_ENDED:
        ends_on = starts_on + timedelta(days=rules.breathing_space_days - 1)
    if ends_on is not None and ends_on < starts_on:
        raise CareError("ends_before_start")
    if ends_on is not None and ends_on > starts_on + timedelta(days=366):
        raise CareError("ends_too_late")
    if reason == "standard" and ends_on > starts_on + timedelta(
            days=rules.breathing_space_days - 1):
        raise CareError("longer_than_policy")
    _locked_records(account.cardholder_id)
    if kind == BREATHING_SPACE:
        for other in db.session.scalars(select(CareRecord).where(
                CareRecord.cardholder_id == account.cardholder_id,
                CareRecord.kind == BREATHING_SPACE,
                CareRecord.ended_on.is_(None) | (CareRecord.ended_on > starts_on),
                or_(CareRecord.ends_on.is_(None), CareRecord.ends_on >= starts_on))):
            if ends_on is None or other.starts_on <= ends_on:
                raise CareError("overlaps")
    row = CareRecord(cardholder_id=account.cardholder_id, kind=kind, reason=reason,
                     note=(note or "").strip() or None, starts_on=starts_on, ends_on=ends_on,
                     recorded_by_id=staff.id)
    db.session.add(row)
    db.session.flush()
    record("care.recorded", subject=row, after={
        "account_id": account.id, "kind": kind, "reason": reason,
        "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat() if ends_on else None})
    return row


def end_record(row: CareRecord, staff, *, reason: str, today: date) -> None:
    """End a record in force from today (today is no longer covered). Refused when it is not
    in force today."""
    _locked_records(row.cardholder_id)
    db.session.refresh(row)
    if not row.in_force(today):
        raise CareError("not_in_force")
    row.ended_on, row.ended_by_id, row.end_reason = max(today, row.starts_on), staff.id, reason
    record("care.ended", subject=row, after={"ended_on": row.ended_on.isoformat()})
