"""What staff do with a dispute: acknowledge, reply or note, ask for documents, reassign,
escalate, resolve (through the ledger), approve. Each action is audited; each status change
reaches the cardholder through `services.change_status`."""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext, lazy_gettext as _

from portal.accounts.locks import lock_account_money
from portal.accounts.models import Component, EntryKind, LedgerEntry
from portal.audit.services import record
from portal.balances.services import today_for
from portal.disputes import data, routing
from portal.disputes.models import DisputeQueue
from portal.disputes.rules import (DisputeStatus as S, IllegalTransition, check_resolution,
                                   needs_approval, split_credit, transition)
from portal.disputes.services import DisputeRefused, add_message, change_status, notify
from portal.events import CreditPosted, credit_posted, emit
from portal.extensions import db
from portal.outbox.models import MessageKind
from portal.outbox.services import queue_to_cardholder
from portal.staff.models import Role, StaffUser

DEFAULT_APPROVAL_THRESHOLD = 100_000  # minor units; config DISPUTE_APPROVAL_THRESHOLD


def approval_threshold() -> int:
    return int(current_app.config.get("DISPUTE_APPROVAL_THRESHOLD", DEFAULT_APPROVAL_THRESHOLD))


def acknowledge(dispute, staff) -> None:
    """Take the dispute into work (also brings it back from escalation or waiting). A proposal
    waiting for approval only a manager sends back (`refuse_approval`)."""
    if dispute.status == S.PENDING_APPROVAL:
        raise IllegalTransition("dispute", dispute.status, S.ACKNOWLEDGED)
    change_status(dispute, S.ACKNOWLEDGED, action="dispute.acknowledged",
                  details={"staff_id": staff.id})


def template_text(key: str, language: str) -> str:
    texts = data.REPLY_TEMPLATES.get(key)
    if texts is None:
        raise DisputeRefused("template", _("Choose a reply template."))
    return texts.get(language) or texts["en"]


def staff_message(dispute, staff, body, *, customer_visible, template=None) -> None:
    """A reply the cardholder reads (and is told about) or an internal note they never see.
    With a template and no text, the template goes out in the cardholder's language."""
    if not body and template:
        body = template_text(template, dispute.language)
    if not body:
        raise DisputeRefused("body", _("Write a message or choose a template."))
    message = add_message(dispute, "staff", staff.id, body, customer_visible=customer_visible)
    record("dispute.replied" if customer_visible else "dispute.note_added", subject=dispute,
           after={"message_id": message.id, "customer_visible": customer_visible})
    if customer_visible:
        if dispute.status == S.OPEN:
            acknowledge(dispute, staff)
        else:
            _tell_new_message(dispute)


def _tell_new_message(dispute) -> None:
    holder = dispute.cardholder
    with force_locale(dispute.language):
        body = gettext("There is a new message about your dispute %(ref)s. Sign in to the portal to "
                 "read it.", ref=f"D-{dispute.id}")
        subject = gettext("New message about your dispute %(ref)s", ref=f"D-{dispute.id}")
    # a staff reply: a service message (quiet hours, opt-outs)
    queue_to_cardholder(holder, subject, body, purpose="dispute", kind=MessageKind.SERVICE,
                        account_id=dispute.account_id)


def request_documents(dispute, staff, body, template=None) -> None:
    """Ask the cardholder for documents: the request is visible and the dispute waits."""
    if not body and template:
        body = template_text(template, dispute.language)
    if not body:
        raise DisputeRefused("body", _("Say which documents you need."))
    add_message(dispute, "staff", staff.id, body, customer_visible=True)
    change_status(dispute, S.AWAITING_CUSTOMER, action="dispute.documents_requested",
                  details={"staff_id": staff.id})


def reassign(dispute, staff, queue: DisputeQueue, assignee: StaffUser | None, *,
             automatic: bool = False) -> None:
    """Move the dispute to a queue and agent. The agent must be able to work that queue (a
    collector never gets a conduct complaint); `automatic` picks the least-loaded one."""
    if not routing.conduct_eligible(queue, category=dispute.category):
        raise DisputeRefused("queue", _("A conduct complaint stays in a queue managers see."))
    if automatic:
        assignee_id = routing.pick_agent(queue, dispute.language)
    elif assignee is not None:
        if assignee.id not in {m.staff_id for m in queue.members} and not assignee.has_role(
                Role.COLLECTIONS_MANAGER):
            raise DisputeRefused("assignee", _("That person is not a member of the queue."))
        if not routing.can_work(assignee, queue):
            raise DisputeRefused("assignee", _("That person cannot work this queue."))
        assignee_id = assignee.id
    else:
        assignee_id = None
    before = {"queue_id": dispute.queue_id, "assignee_id": dispute.assignee_id}
    dispute.queue_id, dispute.assignee_id = queue.id, assignee_id
    db.session.flush()
    record("dispute.reassigned", subject=dispute, before=before,
           after={"queue_id": queue.id, "assignee_id": assignee_id})


def escalate(dispute, staff, to: str, note: str) -> None:
    """Escalate to legal or a manager, with an internal note saying why."""
    if to not in ("legal", "manager"):
        raise DisputeRefused("to", _("Choose who to escalate to."))
    if not note:
        raise DisputeRefused("note", _("Say why you are escalating."))
    add_message(dispute, "staff", staff.id, note, customer_visible=False)
    dispute.escalated_to = to
    change_status(dispute, S.ESCALATED, action="dispute.escalated", details={"to": to})


def legal_record(dispute, staff, step: str | None, note: str) -> None:
    """Legal's internal note on a dispute escalated to legal, optionally recording a legal
    step (data.LEGAL_STEPS). It shows in the staff thread only: the status does not change
    and the cardholder is neither shown nor told anything (a customer-service agent decides
    what to reply). Access is checked by the caller (access.can_act_as_legal)."""
    if step and step not in data.LEGAL_STEPS:
        raise DisputeRefused("step", _("Choose a legal step from the list."))
    if not step and not note:
        raise DisputeRefused("note", _("Write a note or choose a legal step."))
    message = add_message(dispute, "staff", staff.id, note, customer_visible=False,
                          legal_step=step or None)
    record("dispute.legal_step_recorded" if step else "dispute.note_added", subject=dispute,
           after={"message_id": message.id, "legal_step": step or None, "staff_id": staff.id,
                  "customer_visible": False})


def resolve(dispute, staff, outcome: str, amount: int | None, reason: str) -> None:
    """Decide the dispute. Upheld and partly upheld credit the ledger, never above the
    contested amount; a credit above the approval threshold waits for a collections manager
    (unless one decides). A rejection credits nothing. The reason is shown to the cardholder."""
    credit = check_resolution(outcome, amount, dispute.contested_amount)
    if not reason:
        raise DisputeRefused("reason", _("Write the reason the cardholder will read."))
    if needs_approval(credit, approval_threshold()) and not staff.has_role(
            Role.COLLECTIONS_MANAGER):
        dispute.proposed_outcome, dispute.proposed_amount = outcome, credit
        dispute.resolution_reason = reason
        change_status(dispute, S.PENDING_APPROVAL, action="dispute.approval_requested",
                      details={"outcome": outcome, "amount": credit, "staff_id": staff.id})
        return
    _apply(dispute, staff, outcome, credit, reason)


def approve(dispute, manager) -> None:
    """A collections manager approves the proposed resolution; it is applied now."""
    if dispute.status != S.PENDING_APPROVAL:
        raise DisputeRefused(None, _("Nothing is waiting for approval."))
    _apply(dispute, manager, dispute.proposed_outcome, dispute.proposed_amount,
           dispute.resolution_reason, approved=True)


def refuse_approval(dispute, manager, note: str) -> None:
    """The manager sends the proposal back to the agent with an internal note."""
    if not note:
        raise DisputeRefused("note", _("Say why the proposal is refused."))
    add_message(dispute, "staff", manager.id, note, customer_visible=False)
    dispute.proposed_outcome = dispute.proposed_amount = None
    change_status(dispute, S.ACKNOWLEDGED, action="dispute.approval_refused",
                  details={"manager_id": manager.id})


def _apply(dispute, staff, outcome, credit, reason, approved=False) -> None:
    target = {"upheld": S.RESOLVED_UPHELD, "partly": S.RESOLVED_PARTLY,
              "rejected": S.REJECTED}[outcome]
    transition(dispute.status, target)  # refuse before anything is posted
    if credit:  # a money path: the account's row first (docs/money.md, "Lock order")
        lock_account_money(dispute.account_id)
    entries = _post_credit(dispute, credit) if credit else []
    dispute.resolution_amount = credit if outcome != "rejected" else None
    dispute.resolution_reason = reason
    dispute.proposed_outcome = dispute.proposed_amount = None
    add_message(dispute, "staff", staff.id, reason, customer_visible=True)
    # The credit is announced after the dispute closed (a correction replays the day without
    # its hold) and before any audit event of the account: its listeners lock the plan and the
    # nightly state, which every other path takes before the account's audit head.
    change_status(dispute, target, action="dispute.resolved", details={
        "outcome": outcome, "amount": credit, "ledger_entries": [e.id for e in entries],
        "approved_by": staff.id if approved else None},
        before_audit=lambda: _announce_credit(dispute, entries))


def _announce_credit(dispute, entries: list[LedgerEntry]) -> None:
    """Tell the listeners (plans, corrections), then audit the credit's entries."""
    if not entries:
        return
    emit(credit_posted, CreditPosted(dispute.account, entries[0].id,
                                     -sum(e.amount for e in entries),
                                     entries[0].effective_date, "dispute"))
    for entry in entries:
        record("ledger.dispute_credit", subject=entry,
               after={"amount": entry.amount, "component": entry.component.value,
                      "dispute_id": dispute.id})


def _post_credit(dispute, credit: int) -> list[LedgerEntry]:
    parts = [(link.ledger_entry.component.value, link.ledger_entry.amount)
             for link in dispute.entries]
    on = today_for(dispute.account)
    posted = []
    for component, amount in split_credit(credit, parts):
        kind = EntryKind.ADJUSTMENT if component == "principal" else EntryKind.WAIVER
        entry = LedgerEntry(account_id=dispute.account_id, kind=kind,
                            component=Component(component), amount=-amount,
                            currency=dispute.currency, effective_date=on,
                            source_ref=f"dispute:{dispute.id}:{component}")
        db.session.add(entry)
        posted.append(entry)
    db.session.flush()
    return posted


__all__ = ["acknowledge", "approve", "escalate", "legal_record", "notify", "reassign",
           "refuse_approval", "request_documents", "resolve", "staff_message"]
