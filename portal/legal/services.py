"""Recording legal steps (append-only, audited) and deciding which accounts are with legal."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record
from portal.consequences.models import ConsequenceEvent
from portal.disputes.models import Dispute
from portal.events import LegalStepRecorded, emit, legal_step_recorded
from portal.extensions import db
from portal.legal.models import AMOUNT_KINDS, STEP_KINDS, LegalAction, LegalActionKind

MAX_REFERENCE = 200
MAX_NOTE = 4000


class LegalActionRefused(Exception):
    """A legal action that cannot be recorded; `code` names the field-level reason."""

    def __init__(self, code: str, field: str | None = None):
        super().__init__(code)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class StepInput:
    kind: str
    occurred_on: date
    hearing_on: date | None = None
    court_reference: str | None = None
    amount: int | None = None  # minor units of the account currency, already parsed
    note: str | None = None


def referred_clause(account_id_column):
    """SQL condition: the account was referred to legal by the nightly run or has a legal
    action on record (usable in any query that has an account id column)."""
    return or_(
        exists().where(ConsequenceEvent.account_id == account_id_column,
                       ConsequenceEvent.kind == "legal_referral"),
        exists().where(LegalAction.account_id == account_id_column))


def is_with_legal(account) -> bool:
    """Whether legal may open this account: referred, a legal action recorded, or a dispute
    on it escalated to legal (legal may need to record the first step from there)."""
    query = select(or_(
        referred_clause(account.id),
        exists().where(Dispute.account_id == account.id, Dispute.escalated_to == "legal")))
    return bool(db.session.scalar(query))


def _check_step(step: StepInput, today: date) -> None:
    if step.kind not in {k.value for k in STEP_KINDS}:
        raise LegalActionRefused("unknown_kind", "kind")
    if step.occurred_on > today:
        raise LegalActionRefused("future_date", "occurred_on")
    if step.kind == LegalActionKind.HEARING_SCHEDULED and step.hearing_on is None:
        raise LegalActionRefused("hearing_date_missing", "hearing_on")
    if step.kind != LegalActionKind.HEARING_SCHEDULED and step.hearing_on is not None:
        raise LegalActionRefused("hearing_date_not_for_kind", "hearing_on")
    if step.hearing_on is not None and step.hearing_on < step.occurred_on:
        raise LegalActionRefused("hearing_before_step", "hearing_on")
    if step.amount is not None:
        if step.kind not in {k.value for k in AMOUNT_KINDS}:
            raise LegalActionRefused("amount_not_for_kind", "amount")
        if step.amount <= 0:
            raise LegalActionRefused("amount_not_positive", "amount")
    if step.court_reference and len(step.court_reference) > MAX_REFERENCE:
        raise LegalActionRefused("reference_too_long", "court_reference")
    if step.note and len(step.note) > MAX_NOTE:
        raise LegalActionRefused("note_too_long", "note")


def _snapshot(action: LegalAction) -> dict:
    return {"account_id": action.account_id, "kind": str(action.kind),
            "occurred_on": action.occurred_on.isoformat(),
            "hearing_on": action.hearing_on.isoformat() if action.hearing_on else None,
            "court_reference": action.court_reference, "amount": action.amount,
            "currency": action.currency, "note": action.note,
            "corrects_id": action.corrects_id, "recorded_by": action.recorded_by}


def record_action(account, staff, step: StepInput, today: date) -> LegalAction:
    """Append one legal step to the account (flushed, audited, not committed).

    Refuses (LegalActionRefused) an unknown kind, a date after `today`, a hearing without its
    day, an amount on a step that has none or an amount that is not positive. Nothing is ever
    edited: a wrong entry is corrected with `correct_action`.
    """
    _check_step(step, today)
    action = LegalAction(
        account_id=account.id, kind=LegalActionKind(step.kind), occurred_on=step.occurred_on,
        hearing_on=step.hearing_on, court_reference=(step.court_reference or "").strip() or None,
        amount=step.amount, currency=account.currency,
        note=(step.note or "").strip() or None, recorded_by=staff.id)
    db.session.add(action)
    db.session.flush()
    record("legal_action.recorded", subject=action, after=_snapshot(action))
    _recorded(account, action)
    return action


def correct_action(account, staff, action_id: int, reason: str, today: date) -> LegalAction:
    """Mark an earlier step of this account as recorded in error, with the reason; the step
    then no longer counts anywhere the cardholder or the workspace looks. Refuses an unknown
    step, a correction, a step already corrected, and an empty reason."""
    reason = (reason or "").strip()
    if not reason:
        raise LegalActionRefused("reason_missing", "reason")
    if len(reason) > MAX_NOTE:
        raise LegalActionRefused("note_too_long", "reason")
    target = db.session.scalar(select(LegalAction).where(LegalAction.id == action_id,
                                                         LegalAction.account_id == account.id))
    if target is None or target.kind == LegalActionKind.CORRECTION:
        raise LegalActionRefused("unknown_entry", "corrects")
    if db.session.scalar(select(LegalAction.id).where(LegalAction.corrects_id == target.id)):
        raise LegalActionRefused("already_corrected", "corrects")
    correction = LegalAction(account_id=account.id, kind=LegalActionKind.CORRECTION,
                             occurred_on=today, currency=account.currency, note=reason,
                             corrects_id=target.id, recorded_by=staff.id)
    try:
        with db.session.begin_nested():
            db.session.add(correction)
            db.session.flush()
    except IntegrityError:  # corrected at the same moment by someone else
        raise LegalActionRefused("already_corrected", "corrects") from None
    record("legal_action.corrected", subject=correction, before=_snapshot(target),
           after=_snapshot(correction))
    _recorded(account, correction)
    return correction


def _recorded(account, action: LegalAction) -> None:
    emit(legal_step_recorded, LegalStepRecorded(account, action.id, action.kind.value,
                                                action.occurred_on))


@dataclass(frozen=True)
class ActionView:
    action: LegalAction
    corrected_by: LegalAction | None  # the correction that voided this step, if any


def actions_of(account) -> list[ActionView]:
    """Every legal action of the account, newest first, each step with its correction."""
    rows = list(db.session.scalars(
        select(LegalAction).where(LegalAction.account_id == account.id)
        .order_by(LegalAction.occurred_on.desc(), LegalAction.id.desc())))
    corrections = {r.corrects_id: r for r in rows if r.corrects_id is not None}
    return [ActionView(r, corrections.get(r.id)) for r in rows]


def effective_steps(rows) -> list[LegalAction]:
    """The steps among `rows` (one account's actions) that count: not corrections, not
    corrected; oldest first."""
    corrected = {r.corrects_id for r in rows if r.corrects_id is not None}
    steps = [r for r in rows if r.kind != LegalActionKind.CORRECTION and r.id not in corrected]
    return sorted(steps, key=lambda r: (r.occurred_on, r.id))
