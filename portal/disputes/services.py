"""Raising disputes and the cardholder's actions; the one place a dispute's status changes.

Every status change goes through `change_status`: it checks the transition table, writes an
AuditEvent and queues a message to the cardholder in their language.
"""
from __future__ import annotations

from babel.dates import format_date
from flask_babel import force_locale, gettext, lazy_gettext as _
from sqlalchemy import select

from portal.accounts.models import EntryKind, LedgerEntry
from portal.audit.services import record
from portal.balances.services import balance_of
from portal.disputes import data, labels, routing, sla, uploads
from portal.disputes.models import Dispute, DisputeAttachment, DisputeEntry, DisputeMessage
from portal.disputes.rules import DisputeStatus, TERMINAL, is_contesting, sla_deadlines, transition
from portal.domain.dates import local_date
from portal.events import DisputeClosed, DisputeOpened, dispute_closed, dispute_opened, emit
from portal.extensions import db
from portal.outbox.models import MessageKind
from portal.outbox.services import queue_to_cardholder
from portal.timeutil import as_aware, utcnow

CONTESTABLE_KINDS = (EntryKind.STATEMENT_BALANCE, EntryKind.INTEREST, EntryKind.FEE)


class DisputeRefused(ValueError):
    """The request cannot be accepted; `field` names the form field, the message says why."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def contestable_entries(account) -> list[LedgerEntry]:
    """Charges on the account the cardholder may point at (newest first, at most 50)."""
    return list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.account_id == account.id,
                                  LedgerEntry.kind.in_(CONTESTABLE_KINDS), LedgerEntry.amount > 0)
        .order_by(LedgerEntry.effective_date.desc(), LedgerEntry.id.desc()).limit(50)))


def _contested(account, category, amount, entry_ids):
    if not is_contesting(category):
        return None, []
    outstanding = balance_of(account).total
    entries = []
    if entry_ids and category in data.ENTRY_CATEGORIES:
        allowed = {e.id: e for e in contestable_entries(account)}
        if any(i not in allowed for i in entry_ids):
            raise DisputeRefused("entries", _("Choose only entries from this account."))
        entries = [allowed[i] for i in entry_ids]
    if amount is None and entries:
        amount = sum(e.amount for e in entries)
    if amount is None and category == "not_my_debt":
        amount = outstanding  # the whole debt is contested
    if amount is None:
        raise DisputeRefused("amount", _("Enter the amount you are disputing or choose the "
                                         "entries."))
    if amount <= 0:
        raise DisputeRefused("amount", _("The amount must be more than zero."))
    if amount > outstanding:
        raise DisputeRefused("amount", _("The amount cannot be more than what the account "
                                         "shows as owed."))
    return amount, entries


def raise_dispute(cardholder, account, *, category, amount, entry_ids, description,
                  files=(), now=None) -> Dispute:
    """Open a dispute on the cardholder's own account, routed to a queue (and an agent when one
    fits), with SLA deadlines, the description as the first message and the files stored.

    Contesting categories carry a contested amount, positive and not above the outstanding
    balance, which is on collection hold from now on. Raises DisputeRefused or UploadRefused.
    """
    if account.cardholder_id != cardholder.id:
        raise DisputeRefused(None, "not the owner")
    if category not in data.CATEGORIES:
        raise DisputeRefused("category", _("Choose what the dispute is about."))
    contested, entries = _contested(account, category, amount, entry_ids)
    checked = uploads.check_files(files)
    now = now or utcnow()
    language = _locale(cardholder)
    queue, assignee = routing.route(category, language, contested, account.currency)
    deadlines = sla_deadlines(account.policy_profile, category, now)
    dispute = Dispute(account_id=account.id, cardholder_id=cardholder.id, category=category,
                      status=DisputeStatus.OPEN, contested_amount=contested,
                      currency=account.currency, description=description, language=language,
                      queue_id=queue.id, assignee_id=assignee,
                      acknowledge_by=sla.utc(deadlines.acknowledge_by),
                      resolve_by=sla.utc(deadlines.resolve_by),
                      created_at=now, updated_at=now)
    db.session.add(dispute)
    db.session.flush()
    for entry in entries:
        db.session.add(DisputeEntry(dispute_id=dispute.id, ledger_entry_id=entry.id))
    add_message(dispute, "cardholder", cardholder.id, description, customer_visible=True)
    _store_files(dispute, checked, "cardholder")
    record("dispute.raised", subject=dispute, after={
        "category": category, "contested_amount": contested, "currency": dispute.currency,
        "entries": [e.id for e in entries], "queue": queue.code, "assignee_id": assignee,
        "attachments": len(checked)})
    notify(dispute, MessageKind.TRANSACTIONAL, now=now)  # acknowledges their own action
    emit(dispute_opened, DisputeOpened(account, dispute.id, category,
                                       contesting=category in data.CONTESTING))
    return dispute


def add_message(dispute, author_type, author_id, body, *, customer_visible,
                legal_step=None) -> DisputeMessage:
    message = DisputeMessage(dispute_id=dispute.id, author_type=author_type, author_id=author_id,
                             body=body, customer_visible=customer_visible, created_at=utcnow(),
                             legal_step=legal_step)
    db.session.add(message)
    db.session.flush()
    return message


def _store_files(dispute, checked, uploaded_by) -> list[DisputeAttachment]:
    stored = []
    for name, content, content_type in checked:
        attachment = DisputeAttachment(dispute_id=dispute.id, original_name=name,
                                       stored_name=uploads.store(content, content_type),
                                       content_type=content_type, size=len(content),
                                       uploaded_by=uploaded_by)
        db.session.add(attachment)
        stored.append(attachment)
    db.session.flush()
    return stored


def change_status(dispute, target: DisputeStatus, *, action: str, details=None,
                  before_audit=None) -> None:
    """Move the dispute to `target` if the table allows it (else IllegalTransition), audit it
    and tell the cardholder. `before_audit()` is called once the new status is flushed, before
    the audit event (an upheld dispute's credit: its listeners lock the plan and the nightly
    state before the account's audit head, docs/money.md "Lock order")."""
    before = dispute.status
    dispute.status = transition(before, target)
    now = utcnow()
    dispute.updated_at = now
    clock = sla.on_status_change(dispute, before, target, now)  # paused while waiting for them
    if target == DisputeStatus.ACKNOWLEDGED and dispute.acknowledged_at is None:
        dispute.acknowledged_at = now
    if target in TERMINAL:
        dispute.closed_at = now
    db.session.flush()
    if before_audit is not None:
        before_audit()
    record(action, subject=dispute, before={"status": before.value},
           after={"status": target.value, **clock, **(details or {})})
    notify(dispute, MessageKind.TRANSACTIONAL if action in _CARDHOLDER_ACTIONS
           else MessageKind.SERVICE, now=now)
    if target in TERMINAL:
        emit(dispute_closed, DisputeClosed(dispute.account, dispute.id, target.value))


def customer_reply(dispute, cardholder, body, files=()) -> None:
    """The cardholder adds a message and/or documents to their open dispute; one awaiting
    their answer goes back to the agent (acknowledged)."""
    if dispute.status in TERMINAL:
        raise DisputeRefused(None, _("This dispute is closed. Raise a new one if you need to."))
    checked = uploads.check_files(files, already=len(dispute.attachments))
    if not body and not checked:
        raise DisputeRefused("body", _("Write a message or add a file."))
    if body:
        add_message(dispute, "cardholder", cardholder.id, body, customer_visible=True)
    _store_files(dispute, checked, "cardholder")
    record("dispute.customer_replied", subject=dispute,
           after={"message": bool(body), "attachments": len(checked)})
    if dispute.status == DisputeStatus.AWAITING_CUSTOMER:
        change_status(dispute, DisputeStatus.ACKNOWLEDGED, action="dispute.documents_received")


def withdraw(dispute, cardholder) -> None:
    """The cardholder withdraws; any collection hold lifts at once."""
    change_status(dispute, DisputeStatus.WITHDRAWN, action="dispute.withdrawn",
                  details={"by_cardholder": cardholder.id})


# Status changes the cardholder caused are told at once; staff changes are service messages
# (quiet hours and opt-outs apply; never a collection hold: they are about the dispute).
_CARDHOLDER_ACTIONS = {"dispute.withdrawn", "dispute.documents_received"}


def answer_day(dispute, now=None) -> tuple[str, bool] | None:
    """The date the cardholder can expect an answer (`sla.expected_answer`, which moves while
    we wait for them) as a day in their time zone, written in their language, as the dispute
    pages show it, and whether that moment has passed; None once the dispute is closed."""
    if dispute.status in TERMINAL:
        return None
    holder = dispute.cardholder
    now = now or utcnow()
    due = sla.expected_answer(dispute, now)
    day = format_date(local_date(due, holder.timezone), "long", locale=_locale(holder))
    return day, as_aware(due) < as_aware(now)


def _locale(holder) -> str:
    return holder.locale if holder.locale in labels.LANGUAGE_LABELS else "en"


def notify(dispute, kind=MessageKind.SERVICE, *, now=None) -> None:
    """Queue an email (or text) telling the cardholder the dispute's status, in their language,
    with the date they can expect an answer while the dispute is open (the resolve deadline,
    moved by the time we waited for them)."""
    holder = dispute.cardholder
    answer = answer_day(dispute, now)
    day, late = answer if answer else (None, False)
    with force_locale(_locale(holder)):
        status = str(labels.CUSTOMER_STATUS[dispute.status.value])
        subject = gettext("Your dispute %(ref)s: %(status)s", ref=f"D-{dispute.id}", status=status)
        if day is None:
            body = gettext("The status of your dispute %(ref)s is now: %(status)s. Sign in to "
                           "the portal to read the messages and see what happens next.",
                           ref=f"D-{dispute.id}", status=status)
        elif dispute.status == DisputeStatus.AWAITING_CUSTOMER:
            body = gettext("The status of your dispute %(ref)s is now: %(status)s. We will "
                           "answer by %(date)s; this date moves later for as long as we wait "
                           "for your information. Sign in to the portal to read what we need.",
                           ref=f"D-{dispute.id}", status=status, date=day)
        elif late:
            body = gettext("The status of your dispute %(ref)s is now: %(status)s. We should "
                           "have answered by %(date)s; we are sorry for the delay and will "
                           "answer as soon as we can. Sign in to the portal to read the "
                           "messages.", ref=f"D-{dispute.id}", status=status, date=day)
        else:
            body = gettext("The status of your dispute %(ref)s is now: %(status)s. We will "
                           "answer by %(date)s. Sign in to the portal to read the messages and "
                           "see what happens next.", ref=f"D-{dispute.id}", status=status,
                           date=day)
    queue_to_cardholder(holder, subject, body, purpose="dispute", kind=kind,
                        account_id=dispute.account_id)
