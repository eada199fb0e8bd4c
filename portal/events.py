"""Named events between features, each with a small typed payload (blinker, which Flask ships).

The feature that owns a fact emits it (`emit(payment_posted, PaymentPosted(...))`); features
that react connect a listener in `portal.wiring`, never by importing each other's insides.
Events are sent inside the transaction that made the fact, so every listener runs in it too:
a listener that changes state adds and flushes (never commits), and the fact and its reactions
commit or roll back together. A listener never talks to the outside world directly: messages
go through the outbox (queued in the transaction, delivered by the outbox worker only after
it commits). docs/architecture.md lists each event, its emitter and its listeners.

This module imports no other portal module: every feature may import it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from blinker import Namespace, Signal

if TYPE_CHECKING:  # annotations only: the payloads carry the objects, this module imports none
    from portal.accounts.models import Account

_events = Namespace()


@dataclass(frozen=True)
class PaymentPosted:
    """A payment was posted to the ledger (payments). `amount` in minor units. `ahead`: the
    cardholder paid extra ("another amount"), so what goes beyond what falls due now pays a
    plan's last instalments first (docs/money.md)."""
    account: Account
    payment_id: int
    amount: int
    paid_on: date
    ahead: bool = False


@dataclass(frozen=True)
class PaymentReversed:
    """Part or all of a posted payment was refunded or charged back (payments).
    `plan_reversal`: what listeners applied on posting, to unwind ([[instalment_id, amount]])."""
    account: Account
    payment_id: int
    amount: int
    plan_reversal: list


@dataclass(frozen=True)
class CreditPosted:
    """The portal credited the account other than by a payment: an upheld dispute, a plan's
    waiver (disputes, plans). `entry_id`: the credit's first ledger entry; `amount` in minor
    units (positive); `value_date`: the day it takes effect."""
    account: Account
    entry_id: int
    amount: int
    value_date: date
    source: str  # "dispute" | "plan_waiver"


@dataclass(frozen=True)
class IssuerFiguresLowered:
    """The issuer's account feed lowered what accounts owe, or changed what is overdue
    (journal): a payment at the bank, the issuer's own credit. `account_ids`: the accounts,
    each now at its new `feed_as_of`; sent once per batch of rows, after they are written."""
    account_ids: tuple[int, ...]


@dataclass(frozen=True)
class PlanBroken:
    """An active plan was not kept and ended (plans); escalation resumes."""
    account: Account
    plan_id: int
    broken_on: date


@dataclass(frozen=True)
class PlanRescheduled:
    """The cardholder changed an agreed plan's schedule (plans): a new payment date, a delay
    or a skip. `moved_instalment_ids`: the unpaid instalments whose due date changed."""
    account: Account
    plan_id: int
    moved_instalment_ids: tuple[int, ...]


@dataclass(frozen=True)
class DisputeOpened:
    """A cardholder raised a dispute or complaint (disputes)."""
    account: Account
    dispute_id: int
    category: str
    contesting: bool  # it contests the debt, so collection on it holds while it is open


@dataclass(frozen=True)
class DisputeClosed:
    """A dispute reached a final status: resolved, rejected or withdrawn (disputes)."""
    account: Account
    dispute_id: int
    status: str


@dataclass(frozen=True)
class LegalStepRecorded:
    """Staff recorded (or corrected) a step of legal action on an account (legal)."""
    account: Account
    action_id: int
    kind: str
    occurred_on: date


payment_posted = _events.signal("payment-posted", doc="PaymentPosted; listeners may return "
                                "what they applied, which payments keeps for a reversal")
payment_reversed = _events.signal("payment-reversed", doc="PaymentReversed")
credit_posted = _events.signal("credit-posted", doc="CreditPosted")
issuer_figures_lowered = _events.signal("issuer-figures-lowered", doc="IssuerFiguresLowered")
plan_broken = _events.signal("plan-broken", doc="PlanBroken")
plan_rescheduled = _events.signal("plan-rescheduled", doc="PlanRescheduled")
dispute_opened = _events.signal("dispute-opened", doc="DisputeOpened")
dispute_closed = _events.signal("dispute-closed", doc="DisputeClosed")
legal_step_recorded = _events.signal("legal-step-recorded", doc="LegalStepRecorded")


def emit(event: Signal, payload: Any) -> list:
    """Send `payload` to every listener of `event`, in the caller's transaction; returns what
    the listeners returned, None left out. A listener's exception propagates to the emitter,
    whose transaction then rolls back with everything the other listeners did."""
    return [result for _listener, result in event.send(payload) if result is not None]
