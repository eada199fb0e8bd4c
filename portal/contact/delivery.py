"""The contact rules as the outbox asks them when it queues and delivers a service or
collection message: the opt-out footer, the decision when queued, the caps at the moment of
sending and the re-check of deferred messages. `portal.wiring` registers `RULES` with the
outbox, which imports nothing of contact.
"""
from __future__ import annotations

from datetime import datetime

from portal.accounts.models import Cardholder
from portal.contact import services as contact
from portal.contact.footer import with_opt_out
from portal.extensions import db
from portal.outbox.models import Channel, OutboxMessage
from portal.outbox.services import DeliveryRules


def footer(channel: Channel, body: str, cardholder_id: int) -> str:
    """`body` with the opt-out line for its channel, in the cardholder's language."""
    holder = db.session.get(Cardholder, cardholder_id)
    return with_opt_out(channel, body, cardholder_id, holder.locale if holder else None)


def admit(message: OutboxMessage, now: datetime) -> None:
    """Decide a message just queued (deferred, suppressed or due now) and store the decision."""
    contact.apply(message, contact.decide(message, now), now)


def suppress(messages: list[OutboxMessage], reason: str, now: datetime) -> None:
    """Suppress `messages` (audited), e.g. with reason "cap" at the moment of sending."""
    contact.apply_many([(m, contact.Decision(suppressed=reason)) for m in messages], now)


RULES = DeliveryRules(footer=footer, admit=admit, send_guard=contact.send_guard,
                      suppress=suppress, recheck=contact.recheck_batch)
