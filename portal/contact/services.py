"""Whether and when a message may go to a cardholder, and the cardholder's choices.

`decide` (`decide_many` for a batch) is the single place the contact rules are applied. The
outbox calls it when a message is queued (inside the caller's transaction) and `deliver_due`
calls it again right before a deferred message goes out, so a choice made or a dispute raised
in between still counts. At the moment of sending, the outbox checks the caps once more under
a per-cardholder lock (`send_guard`), so two workers sending at once never break them. Rules
by kind (portal.outbox.models.MessageKind):

- transactional: always at once;
- service: opt-outs, then quiet hours;
- collection: opt-outs, collection hold, frequency cap, then quiet hours.

A message over the cap is suppressed (reason "cap"), not deferred: what it says stays
readable in the portal, and a backlog of stale reminders sent later would be worse.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple
from datetime import datetime, time

from sqlalchemy import or_, select

from portal.accounts.models import Account, Cardholder
from portal.audit.services import record, record_many
from portal.contact import clock
from portal.contact.batch import ContactFacts, contact_rules, lock_cardholders, rules_key
from portal.contact.models import ContactPreference
from portal.contact.rules import ContactRules, next_allowed, zone
from portal.extensions import db
from portal.outbox.models import Channel, MessageKind, OutboxMessage


@dataclass(frozen=True)
class Decision:
    not_before: datetime | None = None
    suppressed: str | None = None  # opted_out, hold, cap


def rules_for(holder: Cardholder, account: Account | None, now: datetime) -> ContactRules:
    """The contact section of the policy in force for the account (or the cardholder's first
    account) on the cardholder's local date."""
    key = rules_key(holder, account, now)
    return contact_rules([key])[key]


def opted_out(cardholder_id: int, channel: Channel | str) -> bool:
    return bool(db.session.scalar(select(ContactPreference.opted_out).where(
        ContactPreference.cardholder_id == cardholder_id,
        ContactPreference.channel == Channel(channel))))


def decide(message: OutboxMessage, now: datetime | None = None) -> Decision:
    """What the contact rules say about `message` at `now`: suppressed (with the reason) or
    the earliest moment it may be delivered (`now` itself when allowed at once)."""
    return decide_many([message], now)[message.id]


def decide_many(messages, now: datetime | None = None) -> dict[int, Decision]:
    """`decide` for each of `messages` (by id), as if each were decided and applied in id
    order: a message suppressed here no longer counts towards a later one's cap. Reads a
    fixed number of queries however many messages there are; writes nothing."""
    now = clock.utc(now) if now else clock.now()
    messages = sorted(messages, key=lambda m: m.id)
    facts = ContactFacts([m for m in messages if m.kind != MessageKind.TRANSACTIONAL], now)
    decisions = {}
    for message in messages:
        decision = _decide(message, facts, now)
        if decision.suppressed:
            facts.forget(message)
        decisions[message.id] = decision
    return decisions


def _decide(message: OutboxMessage, facts: ContactFacts, now: datetime) -> Decision:
    if message.kind == MessageKind.TRANSACTIONAL or message.cardholder_id is None:
        return Decision(not_before=now)
    if facts.opted_out(message):
        return Decision(suppressed="opted_out")
    if message.kind == MessageKind.COLLECTION:
        if message.account_id is not None and facts.on_hold(message):
            return Decision(suppressed="hold")
        if facts.over_cap(message):
            return Decision(suppressed="cap")
    rules = facts.rules(message)
    return Decision(not_before=next_allowed(now, facts.holder(message).timezone, rules.start,
                                            rules.end))


def apply(message: OutboxMessage, decision: Decision, now: datetime, *,
          flush: bool = True) -> None:
    """Store a decision on the message (flushed unless `flush` is False and it is not a
    suppression). Suppression is always flushed and audited."""
    apply_many([(message, decision)], now, flush=flush)


def apply_many(decided, now: datetime, *, flush: bool = True) -> None:
    """Store (message, decision) pairs; the suppressions are audited together, with one
    read of the audit chain, and flushed; other decisions only set `not_before` (flushed
    unless `flush` is False)."""
    suppressed = []
    for message, decision in decided:
        if decision.suppressed:
            message.suppressed_at, message.suppressed_reason = now, decision.suppressed
            suppressed.append((message, decision))
        else:
            message.not_before = decision.not_before
    if suppressed:
        db.session.flush()
        record_many([dict(action="outbox.suppressed", subject=message, actor=("system", "contact"),
                          after={"reason": decision.suppressed, "purpose": message.purpose,
                                 "channel": message.channel.value})
                     for message, decision in suppressed])
    elif flush:
        db.session.flush()


def recheck_due(now: datetime | None = None, limit: int = 500) -> int:
    """Re-apply the rules to every undelivered, unsuppressed service or collection message
    due at `now` (deferred messages: the cardholder may have opted out, a hold may have
    started, or the window may have closed again). Flushes; returns how many it looked at."""
    return len(recheck_batch(now, limit).looked)


class Rechecked(NamedTuple):
    looked: list[int]  # ids of the messages re-checked
    cleared: list[int]  # of those, the ones still due now: only these may be sent


def recheck_batch(now: datetime | None = None, limit: int = 500) -> Rechecked:
    """`recheck_due` for one batch of at most `limit` messages, oldest first, saying which
    it looked at and which it cleared for sending now.

    A fixed number of queries per batch, suppressions and their audit entries included. On
    PostgreSQL a message another worker is sending or re-checking is skipped."""
    now = clock.utc(now) if now else clock.now()
    query = (select(OutboxMessage).where(
        OutboxMessage.delivered_at.is_(None), OutboxMessage.suppressed_at.is_(None),
        OutboxMessage.failed_at.is_(None), OutboxMessage.kind != MessageKind.TRANSACTIONAL,
        or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now))
        .order_by(OutboxMessage.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    due = db.session.scalars(query).all()
    decisions = decide_many(due, now)
    apply_many([(m, decisions[m.id]) for m in due], now, flush=False)
    db.session.flush()
    cleared = [m.id for m in due if m.suppressed_at is None
               and (m.not_before is None or clock.utc(m.not_before) <= now)]
    return Rechecked([m.id for m in due], cleared)


def send_guard(messages, now: datetime) -> ContactFacts:
    """Make check-and-send atomic for the caps: call it in the delivery transaction before
    sending `messages` at `now`. It takes the delivery lock of every cardholder with a
    collection message among them (held until the transaction ends), then returns facts
    whose `over_cap(message)` says whether sending it would break its cap, counting what
    was sent in the cap's period; call `sent(message)` after each send."""
    collection = [m for m in messages
                  if m.kind == MessageKind.COLLECTION and m.cardholder_id is not None]
    lock_cardholders(m.cardholder_id for m in collection)
    return ContactFacts(collection, now, count_waiting=False)


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


@dataclass(frozen=True)
class _Probe:
    """A collection message that would be queued now: what `ContactFacts` reads of one."""
    id: int
    cardholder_id: int
    account_id: int
    channel: Channel
    kind: MessageKind = MessageKind.COLLECTION


# Above every real message id (the column is a 32-bit integer): a probe counts every waiting
# message towards its cap, as a message queued now would.
_PROBE_ID = 2 ** 31 - 1 - len(Channel)


@dataclass(frozen=True)
class ContactNow:
    """What the contact rules say about reaching a cardholder about an account at a moment
    (`contact_now`). `local` is that moment on the cardholder's clock."""
    local: datetime
    window: tuple[time, time]  # the profile's allowed hours, local (start, end)
    in_hours: bool
    next_window: datetime | None  # UTC start of the next allowed hours, when outside them
    held: bool  # collection contact paused (an open dispute contests the debt)
    messages: dict[str, Decision]  # per channel: what a collection message queued now gets
    opted_out: tuple[str, ...]  # channels the cardholder turned off

    @property
    def allowed(self) -> bool:
        """A collector may reach the cardholder now: inside the allowed hours, no hold."""
        return self.in_hours and not self.held


def contact_now(holder: Cardholder, account: Account, now: datetime | None = None) -> ContactNow:
    """The contact rules (the ones `decide` applies to the outbox: the profile's hours in the
    cardholder's zone, holds, opt-outs, caps) asked about `account` at `now`, for a person
    about to call or write. Reads a fixed number of queries; writes nothing."""
    now = clock.utc(now) if now else clock.now()
    probes = [_Probe(_PROBE_ID + n, holder.id, account.id, channel)
              for n, channel in enumerate(Channel)]
    facts = ContactFacts(probes, now)
    rules = facts.rules(probes[0])
    tz = holder.timezone
    opens = next_allowed(now, tz, rules.start, rules.end)
    return ContactNow(
        local=now.astimezone(zone(tz)), window=(rules.start, rules.end),
        in_hours=opens <= now, next_window=None if opens <= now else opens,
        held=facts.on_hold(probes[0]),
        messages={p.channel.value: _decide(p, facts, now) for p in probes},
        opted_out=tuple(p.channel.value for p in probes if facts.opted_out(p)))
