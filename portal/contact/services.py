"""Whether and when a message may go to a cardholder, and the cardholder's choices.

`decide` is the single place the contact rules are applied. The outbox calls it when a
message is queued (inside the caller's transaction) and `deliver_due` calls it again right
before a deferred message goes out, so a choice made or a dispute raised in between still
counts. Rules by kind (portal.outbox.models.MessageKind):

- transactional: always at once;
- service: opt-outs, then quiet hours;
- collection: opt-outs, collection hold, frequency cap, then quiet hours.

A message over the cap is suppressed (reason "cap"), not deferred: what it says stays
readable in the portal, and a backlog of stale reminders sent later would be worse.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from portal.accounts.models import Account, Cardholder
from portal.audit.services import record
from portal.contact import clock
from portal.contact.models import ContactPreference
from portal.contact.rules import ContactRules, next_allowed, parse_contact
from portal.domain.dates import local_date
from portal.extensions import db
from portal.outbox.models import Channel, MessageKind, OutboxMessage

log = logging.getLogger(__name__)
DEFAULT_PROFILE = "us"  # the stricter shipped rules, for a cardholder with no account


@dataclass(frozen=True)
class Decision:
    not_before: datetime | None = None
    suppressed: str | None = None  # opted_out, hold, cap


def rules_for(holder: Cardholder, account: Account | None, now: datetime) -> ContactRules:
    """The contact section of the policy in force for the account (or the cardholder's first
    account) on the cardholder's local date."""
    from portal.policy.services import UnknownProfile, policy_for

    account = account or (holder.accounts[0] if holder.accounts else None)
    profile = account.policy_profile if account else DEFAULT_PROFILE
    try:
        day = local_date(now, holder.timezone or "UTC")
    except ValueError:
        log.warning("cardholder %s has unknown time zone %r; using UTC", holder.id,
                    holder.timezone)
        day = now.date()
    try:
        return parse_contact(policy_for(profile, day).section("contact"))
    except UnknownProfile:
        return parse_contact(policy_for(DEFAULT_PROFILE, day).section("contact"))


def opted_out(cardholder_id: int, channel: Channel | str) -> bool:
    return bool(db.session.scalar(select(ContactPreference.opted_out).where(
        ContactPreference.cardholder_id == cardholder_id,
        ContactPreference.channel == Channel(channel))))


def _on_hold(account_id: int) -> bool:
    from portal.disputes.holds import accounts_on_hold

    return account_id in accounts_on_hold([account_id])


def _over_cap(message: OutboxMessage, rules: ContactRules, now: datetime) -> bool:
    cap = rules.cap(message.channel.value)
    since = now - timedelta(days=cap.period_days)
    counted = db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.cardholder_id == message.cardholder_id,
        OutboxMessage.channel == message.channel,
        OutboxMessage.kind == MessageKind.COLLECTION,
        OutboxMessage.suppressed_at.is_(None),
        OutboxMessage.id != message.id,
        or_(OutboxMessage.delivered_at >= since,
            (OutboxMessage.delivered_at.is_(None)) & (OutboxMessage.id < message.id))))
    return counted >= cap.max_messages


def decide(message: OutboxMessage, now: datetime | None = None) -> Decision:
    """What the contact rules say about `message` at `now`: suppressed (with the reason) or
    the earliest moment it may be delivered (`now` itself when allowed at once)."""
    now = clock.utc(now) if now else clock.now()
    if message.kind == MessageKind.TRANSACTIONAL or message.cardholder_id is None:
        return Decision(not_before=now)
    holder = db.session.get(Cardholder, message.cardholder_id)
    if opted_out(holder.id, message.channel):
        return Decision(suppressed="opted_out")
    account = db.session.get(Account, message.account_id) if message.account_id else None
    rules = rules_for(holder, account, now)
    if message.kind == MessageKind.COLLECTION:
        if account is not None and _on_hold(account.id):
            return Decision(suppressed="hold")
        if _over_cap(message, rules, now):
            return Decision(suppressed="cap")
    return Decision(not_before=next_allowed(now, holder.timezone, rules.start, rules.end))


def apply(message: OutboxMessage, decision: Decision, now: datetime) -> None:
    """Store a decision on the message (flushed). Suppression is audited."""
    if decision.suppressed:
        message.suppressed_at, message.suppressed_reason = now, decision.suppressed
        db.session.flush()
        record("outbox.suppressed", subject=message, actor=("system", "contact"),
               after={"reason": decision.suppressed, "purpose": message.purpose,
                      "channel": message.channel.value})
    else:
        message.not_before = decision.not_before
        db.session.flush()


def recheck_due(now: datetime | None = None, limit: int = 500) -> int:
    """Re-apply the rules to every undelivered, unsuppressed service or collection message
    due at `now` (deferred messages: the cardholder may have opted out, a hold may have
    started, or the window may have closed again). Flushes; returns how many it looked at."""
    now = clock.utc(now) if now else clock.now()
    due = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.delivered_at.is_(None), OutboxMessage.suppressed_at.is_(None),
        OutboxMessage.kind != MessageKind.TRANSACTIONAL,
        or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now))
        .order_by(OutboxMessage.id).limit(limit)).all()
    for message in due:
        apply(message, decide(message, now), now)
    return len(due)


def set_preference(holder: Cardholder, channel: Channel | str, *, on: bool, source: str,
                   actor=None) -> bool:
    """Turn a channel on or off for collection and service messages (flushed, audited).
    Returns True when something changed; setting the current value again writes nothing."""
    channel = Channel(channel)
    row = db.session.scalar(select(ContactPreference).where(
        ContactPreference.cardholder_id == holder.id, ContactPreference.channel == channel))
    before_on = row is None or not row.opted_out
    if before_on == on:
        return False
    if row is None:
        row = ContactPreference(cardholder_id=holder.id, channel=channel)
        db.session.add(row)
    row.opted_out, row.source, row.changed_at = not on, source, clock.now()
    db.session.flush()
    record("contact.preference_changed", subject=holder,
           actor=actor or ("cardholder", holder.id),
           before={"channel": channel.value, "on": before_on},
           after={"channel": channel.value, "on": on, "source": source})
    return True


def preferences(holder: Cardholder) -> dict[str, bool]:
    """{"email": on?, "sms": on?} for the cardholder."""
    return {c.value: not opted_out(holder.id, c) for c in Channel}


def sms_stop(phone: str, *, on: bool = False) -> int:
    """Record a STOP (or START with on=True) texted from `phone` for every cardholder with
    that number; returns how many cardholders changed."""
    holders = db.session.scalars(select(Cardholder).where(Cardholder.phone == phone)).all()
    return sum(set_preference(h, Channel.SMS, on=on, source="sms_stop", actor=("system", "sms"))
               for h in holders)
