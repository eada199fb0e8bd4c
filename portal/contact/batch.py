"""What the contact rules need to know about a batch of messages, read with a fixed number of
queries however many messages the batch holds: the cardholders and their accounts, the
contact rules in force for each message, opt-outs, collection holds, and the collection
messages that count towards each cardholder's caps.

`portal.contact.services` decides with it (one message when queued, a batch when re-checked);
the outbox uses it again at the moment of sending, under the cardholders' delivery locks.
"""
from __future__ import annotations

import logging
from bisect import bisect_left
from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Callable

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import selectinload

from portal.accounts.models import Account, Cardholder
from portal.contact.models import ContactPreference
from portal.contact.rules import ContactRules, parse_contact
from portal.domain.dates import local_date
from portal.extensions import db
from portal.outbox.models import Channel, MessageKind, OutboxMessage
from portal.policy.services import UnknownProfile, policies_for, policy_for
from portal.timeutil import as_aware

log = logging.getLogger("portal.contact.services")
DEFAULT_PROFILE = "us"  # the stricter shipped rules, for a cardholder with no account
_DELIVERY_LOCK = 7262002  # pg_advisory_xact_lock(_DELIVERY_LOCK, cardholder id)
# Checks naming, of some account ids, those whose collection messages are held (disputes: an
# open dispute contesting the debt). Registered by portal.wiring; contact imports none of them.
_HOLDS: list[Callable[[set[int]], set[int]]] = []


def register_hold(check: Callable[[set[int]], set[int]]) -> None:
    """Hold collection messages about the accounts `check` names (asked once per batch)."""
    if check not in _HOLDS:
        _HOLDS.append(check)


def rules_key(holder: Cardholder, account: Account | None, now: datetime) -> tuple[str, date]:
    """(profile, day) whose contact rules apply: the account's profile (or the cardholder's
    first account's, or DEFAULT_PROFILE) on the cardholder's local date."""
    account = account or (holder.accounts[0] if holder.accounts else None)
    profile = account.policy_profile if account else DEFAULT_PROFILE
    try:
        day = local_date(now, holder.timezone or "UTC")
    except ValueError:
        log.warning("cardholder %s has unknown time zone %r; using UTC", holder.id,
                    holder.timezone)
        day = now.date()
    return profile, day


def contact_rules(keys) -> dict[tuple[str, date], ContactRules]:
    """The contact rules in force for each (profile, day): one query per distinct day (a
    moment falls on at most three local dates); a profile no policy knows takes
    DEFAULT_PROFILE's rules."""
    by_day: dict[date, set[str]] = defaultdict(set)
    for profile, day in keys:
        by_day[day].add(profile)
    found = {}
    for day, profiles in by_day.items():
        try:
            policies = policies_for(profiles, day)
        except UnknownProfile:  # rare (an account names a withdrawn profile): one by one
            policies = {}
            for profile in profiles:
                try:
                    policies[profile] = policy_for(profile, day)
                except UnknownProfile:
                    policies[profile] = policy_for(DEFAULT_PROFILE, day)
        for profile in profiles:
            found[(profile, day)] = parse_contact(policies[profile].section("contact"))
    return found


def lock_cardholders(cardholder_ids) -> None:
    """Take each cardholder's delivery lock until the transaction ends (PostgreSQL advisory
    locks, in ascending id order so two workers cannot deadlock). On SQLite the delivery's
    first write already holds the database's only write lock."""
    ids = sorted(set(cardholder_ids))
    if ids and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:space, k) FROM unnest(CAST(:ids AS integer[])) k"),
            {"space": _DELIVERY_LOCK, "ids": ids})


class ContactFacts:
    """The facts for `messages` (service or collection messages with a cardholder) at `now`.

    Each kind of fact is read once, on first use. With `count_waiting` (deciding), a message's
    cap counts collection messages sent in the cap's period plus those queued before it and
    neither sent nor suppressed; without it (sending), only those sent. `forget` and `sent`
    keep the counts right as the caller decides or sends the batch in id order.
    """

    def __init__(self, messages, now: datetime, *, count_waiting: bool = True):
        self.now = now
        self.messages = [m for m in messages if m.cardholder_id is not None]
        self._count_waiting = count_waiting
        self._suppressed: set[int] = set()
        holder_ids = {m.cardholder_id for m in self.messages}
        self.holders = {h.id: h for h in db.session.scalars(
            select(Cardholder).where(Cardholder.id.in_(holder_ids))
            .options(selectinload(Cardholder.accounts)))} if holder_ids else {}
        self.accounts = {a.id: a for h in self.holders.values() for a in h.accounts}
        missing = {m.account_id for m in self.messages if m.account_id} - set(self.accounts)
        if missing:
            self.accounts.update((a.id, a) for a in db.session.scalars(
                select(Account).where(Account.id.in_(missing))))
        keys = {m.id: rules_key(self.holder(m), self.account(m), now) for m in self.messages}
        found = contact_rules(set(keys.values()))
        self._rules = {message_id: found[key] for message_id, key in keys.items()}

    def holder(self, message) -> Cardholder:
        return self.holders[message.cardholder_id]

    def account(self, message) -> Account | None:
        return self.accounts.get(message.account_id) if message.account_id else None

    def rules(self, message) -> ContactRules:
        return self._rules[message.id]

    @cached_property
    def _opted_out(self) -> set[tuple[int, Channel]]:
        rows = db.session.execute(select(ContactPreference.cardholder_id, ContactPreference.channel)
                                  .where(ContactPreference.cardholder_id.in_(set(self.holders)),
                                         ContactPreference.opted_out.is_(True)))
        return {(holder_id, Channel(channel)) for holder_id, channel in rows}

    def opted_out(self, message) -> bool:
        return (message.cardholder_id, Channel(message.channel)) in self._opted_out

    @cached_property
    def _held(self) -> set[int]:
        ids = {m.account_id for m in self.messages
               if m.account_id and m.kind == MessageKind.COLLECTION}
        return set().union(*(check(ids) for check in _HOLDS))

    def on_hold(self, message) -> bool:
        """A collection message about an account with an open dispute contesting the debt."""
        return message.account_id in self._held

    def _collection(self):
        return [m for m in self.messages if m.kind == MessageKind.COLLECTION]

    @cached_property
    def _counted(self):
        """Per (cardholder, channel): moments collection messages were sent (within the
        longest cap period of the batch) and ids of those waiting (ascending)."""
        sent, waiting = defaultdict(list), defaultdict(list)
        collection = self._collection()
        if not collection:
            return sent, waiting
        since = min(self.now - timedelta(days=self._cap(m).period_days) for m in collection)
        counts = OutboxMessage.delivered_at >= since
        if self._count_waiting:
            counts = or_(counts, and_(OutboxMessage.delivered_at.is_(None),
                                      OutboxMessage.failed_at.is_(None),
                                      OutboxMessage.id < max(m.id for m in collection)))
        rows = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.cardholder_id, OutboxMessage.channel,
                   OutboxMessage.delivered_at)
            .where(OutboxMessage.cardholder_id.in_({m.cardholder_id for m in collection}),
                   OutboxMessage.kind == MessageKind.COLLECTION,
                   OutboxMessage.suppressed_at.is_(None), counts)
            .order_by(OutboxMessage.id))
        for message_id, holder_id, channel, delivered_at in rows:
            if message_id in self._suppressed:
                continue
            if delivered_at is None:
                waiting[(holder_id, Channel(channel))].append(message_id)
            else:
                sent[(holder_id, Channel(channel))].append(as_aware(delivered_at))
        return sent, waiting

    def _cap(self, message):
        return self.rules(message).cap(Channel(message.channel).value)

    def over_cap(self, message) -> bool:
        """Whether one more collection message on its channel would break the cap."""
        if message.kind != MessageKind.COLLECTION or message.cardholder_id is None:
            return False
        cap = self._cap(message)
        since = self.now - timedelta(days=cap.period_days)
        sent, waiting = self._counted
        key = (message.cardholder_id, Channel(message.channel))
        counted = sum(1 for moment in sent[key] if moment >= since)
        if self._count_waiting:
            counted += bisect_left(waiting[key], message.id)
        return counted >= cap.max_messages

    def forget(self, message) -> None:
        """`message` was suppressed: it no longer counts towards later messages' caps."""
        self._suppressed.add(message.id)
        if "_counted" in self.__dict__:  # already read: take it out of the waiting list
            waiting = self._counted[1][(message.cardholder_id, Channel(message.channel))]
            if message.id in waiting:
                waiting.remove(message.id)

    def sent(self, message) -> None:
        """`message` was just sent at `now`: it counts towards the next ones' caps."""
        if message.kind == MessageKind.COLLECTION and message.cardholder_id is not None:
            self._counted[0][(message.cardholder_id, Channel(message.channel))].append(self.now)
