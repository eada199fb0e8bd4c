"""A stateful property test of the journal with the issuer (Hypothesis rule-based machine).

The machine plays the issuer and the cardholder against one account: portal payments (dated
today or the day before, as a late webhook would be), upheld dispute credits, the issuer's own
charges, journal exports, feeds with `applied_portal_ids` built before or after the issuer took
in the last export, old feeds without the field, and stale feeds. After every step it checks:
- the portal's balance equals the issuer's last figure plus the portal movements it has not
  applied (the ledger's acknowledgements agree with the model);
- no amount is counted twice: that balance also equals the issuer's own base plus every portal
  movement, once;
- what is overdue is the issuer's minimum due less the payments it has not applied;
- re-running an export for a closed window gives the same bytes;
- the account's audit stream is whole (places 1..n, its head at the newest), and at the end
  `audit verify` holds.
The provider refunds part of a payment or the cardholder's bank disputes one (withdrawn, then
won or lost), each event delivered twice. A third machine adds plans proposed, approved after
review and agreed again when re-priced. Later slices add autopay and the nightly run.
"""
from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from hypothesis import settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from portal.accounts.models import LedgerEntry
from portal.audit.models import AuditEvent, AuditStreamHead
from portal.audit.services import verify_chain
from portal.balances.services import balance_of
from portal.balances.sums import BEYOND_MINIMUM
from portal.disputes import workflow
from portal.exports.journal import JOURNAL_COLUMNS, journal_rows
from portal.exports.services import write_csv
from portal.extensions import db as _db
from portal.journal.models import JournalAck
from portal.journal.rules import movement_id
from portal.payments import webhooks
from portal.payments.models import Payment, PaymentReversal
from portal.plans import decisions, endings, lifecycle
from portal.plans.models import Plan, PlanStatus
from portal.plans.offers import PlanSpec
from portal.plans.services import plan_pause
from tests.dispute_helpers import join, raise_dispute
from tests.integration.journal_helpers import Clock, account, feed, movement_ids, pay
from tests.integration.plan_helpers import consent_for

START = date(2026, 11, 2)
_numbers = itertools.count(1)


def _noon(day: date) -> datetime:
    """Noon in Shanghai on `day`, in UTC (the same calendar day in both)."""
    return datetime.combine(day, time(4), tzinfo=timezone.utc)


class JournalMachine(RuleBasedStateMachine):
    clock: Clock
    due = "2026-10-19"  # the feed's oldest unpaid due date
    agent = None
    seen: Counter = Counter()  # which paths the examples reached, so the test is never vacuous

    def __init__(self):
        super().__init__()
        self.day = START
        self.lag = current_app.config["JOURNAL_OLD_FEED_LAG_DAYS"]
        self.clock.now = _noon(self.day)
        self.number = f"6229{next(_numbers):012d}"
        self.base, self.min_base = 430_000, 50_000  # the issuer's own principal, minimum due
        feed(START - timedelta(days=1), self.base, minimum_due=self.min_base, number=self.number,
             due=self.due)
        self.account = account(self.number)
        self.reported = (self.base, self.min_base)  # base and minimum due in the last feed
        self.last_feed = START - timedelta(days=1)
        # ledger entry id -> (amount, is a payment, UTC posting day)
        self.movements: dict[int, tuple[int, bool, date]] = {}
        self.received: set[int] = set()  # reached the issuer through an export
        self.applied: set[int] = set()  # in the issuer's figures
        self.acked: set[int] = set()  # what the portal should have recorded as applied
        self.exported_through = START - timedelta(days=1)
        self.exports: list[tuple[date, date, bytes]] = []
        # Caps on repeats steer every example through a mix of steps, not one step 20 times.
        self.done: Counter = Counter()
        self.refunds: dict[int, list[dict]] = {}  # payment id -> the charge's refunds so far

    # -- the issuer's figure as it would state it ----------------------------------------
    def _figures(self, applied: set[int]) -> dict:
        """The feed's figures (keyword arguments of `feed`) once the issuer applied `applied`."""
        principal = self.base + sum(self.movements[i][0] for i in applied)
        paid = sum(self.movements[i][0] for i in applied if self.movements[i][1])
        return {"principal": principal, "minimum_due": max(0, self.min_base + paid),
                "due": self.due}

    def _accrued(self) -> int:
        """What the nightly run charged that no movement takes back (none in this machine)."""
        return 0

    def _fees_after_feed(self) -> int:
        """Fees the portal charged (or took back) after the issuer's last feed: overdue."""
        return 0

    def _record(self, prefix: str, payment: bool) -> None:
        for entry_id in movement_ids(self.account, prefix):
            amount = _db.session.get(LedgerEntry, entry_id).amount
            self.movements[entry_id] = (amount, payment, self.day)

    @initialize(formats=st.sampled_from(["new", "old", "both"]))
    def issuer_sends(self, formats):
        """Feeds with applied_portal_ids, old feeds without it, or first one then the other."""
        self.formats = formats

    # -- the cardholder and staff ---------------------------------------------------------
    @precondition(lambda self: self.done[("pay", self.day)] < 3)
    @rule(amount=st.integers(1, 30_000), earlier=st.booleans())
    def portal_payment(self, amount, earlier):
        self.done[("pay", self.day)] += 1
        succeeded = self.clock.now - timedelta(days=1 if earlier else 0)
        payment = pay(self.account, amount, f"{self.number}-{len(self.movements)}", succeeded)
        self._record(f"payment:{payment.id}:", payment=True)
        if payment.paid_on <= self.last_feed:
            self.seen["payment dated on or before the last feed"] += 1

    @precondition(lambda self: self.done["credit"] < 3)
    @rule(amount=st.integers(1, 20_000))
    def dispute_credit(self, amount):
        self.done["credit"] += 1
        if amount > balance_of(self.account).total:  # the portal refuses it (tested there)
            self.seen["dispute for more than is owed not raised"] += 1
            return
        dispute = raise_dispute(self.account, amount=amount)
        workflow.resolve(dispute, self.agent, "upheld", amount, "The charge was wrong.")
        _db.session.commit()
        self._record(f"dispute:{dispute.id}:", payment=False)

    # -- time and the issuer -------------------------------------------------------------
    @rule(days=st.integers(1, 3))
    def next_day(self, days):
        self.day += timedelta(days=days)
        self.clock.now = _noon(self.day)

    @precondition(lambda self: self.done["charge"] < 3)
    @rule(amount=st.integers(1, 5_000))
    def issuer_charges(self, amount):
        self.done["charge"] += 1
        self.base += amount

    @precondition(lambda self: self.exported_through < self.day - timedelta(days=1))
    @rule()
    def export(self):
        since, until = self.exported_through + timedelta(days=1), self.day - timedelta(days=1)
        data = self._export(since, until)
        self.exports.append((since, until, data))
        self.exported_through = until
        sent = {row["movement_id"] for row in csv.DictReader(io.StringIO(data.decode()))}
        self.received |= {i for i in self.movements if movement_id(i) in sent}
        self.seen["exported movement"] += len(sent)

    @precondition(lambda self: self.formats != "old" and self.day > self.last_feed)
    @rule(caught_up=st.booleans())
    def feed_naming_applied_movements(self, caught_up):
        if caught_up:  # else the feed was built before the issuer took in the last export
            self.applied |= self.received
        result = feed(self.day, number=self.number, applied=sorted(self.applied),
                      **self._figures(self.applied))
        assert result.rejected == 0, result.rejects
        self.seen["acknowledged by a feed"] += len(self.applied - self.acked)
        self._fed(self.applied)

    @precondition(lambda self: self.formats != "new" and self.day > self.last_feed
                  and self.applied <= self.acked | self._old_enough())
    @rule()
    def old_feed_without_the_field(self):
        # The documented contract for old feeds: the issuer has applied what the date rule
        # says (exports reach it within the lag), and nothing younger.
        self.applied |= self._old_enough()
        result = feed(self.day, number=self.number, **self._figures(self.applied))
        assert result.rejected == 0, result.rejects
        self.seen["acknowledged by an old feed"] += len(self.applied - self.acked)
        self._fed(self.applied)

    @precondition(lambda self: self.last_feed > START - timedelta(days=1)
                  and not self.done["stale"])
    @rule(principal=st.integers(0, 900_000))
    def stale_feed_is_refused(self, principal):
        self.done["stale"] += 1
        result = feed(self.last_feed - timedelta(days=1), principal, number=self.number,
                      applied=[])
        assert result.rejected == 1
        self.seen["stale feed refused"] += 1

    def _old_enough(self) -> set[int]:
        return {i for i, (_, _, day) in self.movements.items()
                if self.day >= day + timedelta(days=self.lag)}

    def _fed(self, applied: set[int]) -> None:
        self.acked = set(applied)
        self.reported = (self.base, self._figures(applied)["minimum_due"])
        self.last_feed = self.day

    def _export(self, since: date, until: date) -> bytes:
        out = io.StringIO()
        write_csv((r for r in journal_rows(since, until)
                   if r["account_number"] == self.number), JOURNAL_COLUMNS, out)
        return out.getvalue().encode()

    # -- what must always hold -----------------------------------------------------------
    @invariant()
    def balance_is_the_issuers_figure_plus_what_it_has_not_applied(self):
        _db.session.expire_all()
        balance = balance_of(self.account, self.day)
        recorded = set(_db.session.scalars(select(JournalAck.ledger_entry_id).where(
            JournalAck.account_id == self.account.id)))
        assert recorded == self.acked
        base, minimum = self.reported
        figure = base + sum(self.movements[i][0] for i in self.acked)
        not_applied = [self.movements[i] for i in self.movements if i not in self.acked]
        accrued = self._accrued()
        assert balance.total == figure + sum(m[0] for m in not_applied) + accrued
        # Counted once: the issuer's own base plus every portal movement.
        assert balance.total == base + sum(m[0] for m in self.movements.values()) + accrued
        # A reversal of money paid beyond the minimum makes nothing owed again (the portal
        # marks it when posting; tests/integration/test_reversal_beyond_minimum.py).
        beyond = set(_db.session.scalars(select(LedgerEntry.id).where(
            LedgerEntry.account_id == self.account.id,
            LedgerEntry.source_ref.like(f"%{BEYOND_MINIMUM}"))))
        unapplied_payments = sum(self.movements[i][0] for i in self.movements
                                 if i not in self.acked and self.movements[i][1]
                                 and i not in beyond)
        assert balance.overdue == max(0, min(balance.total, minimum + self._fees_after_feed()
                                             + unapplied_payments)), (balance, minimum)
        assert (balance.days_past_due > 0) == (balance.overdue > 0)

    @invariant()
    def the_accounts_audit_stream_is_whole_and_never_forks(self):
        stream = f"account:{self.account.id}"
        events = _db.session.execute(select(AuditEvent.seq, AuditEvent.hash).where(
            AuditEvent.stream == stream).order_by(AuditEvent.id)).all()
        assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
        head = _db.session.get(AuditStreamHead, stream)
        if events:
            assert (head.event_count, head.last_hash) == (len(events), events[-1].hash)

    @invariant()
    def closed_export_windows_give_the_same_file(self):
        for since, until, data in self.exports[-3:]:
            assert self._export(since, until) == data


def run_machine(machine: type[JournalMachine], clock, make_staff) -> Counter:
    """Run `machine` from a fresh start; returns which paths its examples reached."""
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    machine.agent = agent
    machine.clock = Clock(clock, _noon(START))
    machine.seen = Counter()
    run_state_machine_as_test(machine, settings=settings(
        max_examples=20, stateful_step_count=20, deadline=None, derandomize=True,
        database=None))
    return machine.seen


def test_journal_with_the_issuer_holds_under_any_interleaving(db, clock, make_staff):
    reached = run_machine(JournalMachine, clock, make_staff)
    assert all(reached[path] > 0 for path in (
        "payment dated on or before the last feed", "exported movement",
        "acknowledged by a feed", "acknowledged by an old feed", "stale feed refused")), reached
    assert verify_chain()[1] is None


class ProviderJournalMachine(JournalMachine):
    """The same, and the provider refunds part of a payment or the cardholder's bank disputes one
    (funds withdrawn, then won or lost), each event delivered twice."""

    # -- the provider: refunds and chargebacks, delivered twice ----------------------------
    def _deliver(self, event: dict) -> None:
        """The provider's event, delivered twice under two ids (a retry after a time-out)."""
        for suffix in ("a", "b"):
            webhooks.handle_event(dict(event, id=f"{event['id']}-{suffix}"), provider="sandbox")
            _db.session.commit()

    def _record_reversals(self, payment_id: int) -> None:
        for reversal in _db.session.scalars(select(PaymentReversal).where(
                PaymentReversal.payment_id == payment_id)):
            for prefix in (f"reversal:{reversal.id}:", f"reinstated:{reversal.id}:"):
                if any(i not in self.movements for i in movement_ids(self.account, prefix)):
                    self._record(prefix, payment=True)

    def _payments_left(self) -> list[Payment]:
        return [p for p in _db.session.scalars(select(Payment).where(
            Payment.account_id == self.account.id).order_by(Payment.id))
            if p.amount > p.refunded_amount and p.dispute_status is None]

    @precondition(lambda self: self.done["refund"] < 3)
    @rule(data=st.data())
    def provider_refunds_part_of_a_payment(self, data):
        left = self._payments_left()
        if not left:
            return
        self.done["refund"] += 1
        payment = data.draw(st.sampled_from(left))
        amount = data.draw(st.integers(1, payment.amount - payment.refunded_amount))
        refunds = self.refunds.setdefault(payment.id, [])
        refunds.append({"id": f"re_{payment.id}_{len(refunds)}", "amount": amount,
                        "status": "succeeded"})
        self._deliver({"id": f"evt_refund_{payment.id}_{len(refunds)}", "type": "charge.refunded",
                       "data": {"object": {"id": f"ch_{payment.id}", "object": "charge",
                                           "payment_intent": payment.provider_ref,
                                           "refunds": {"object": "list", "has_more": False,
                                                       "data": list(refunds)}}}})
        self._record_reversals(payment.id)
        self.seen["refund"] += 1

    @precondition(lambda self: self.done["chargeback"] < 2)
    @rule(data=st.data(), won=st.booleans())
    def bank_disputes_a_payment(self, data, won):
        left = [p for p in self._payments_left() if not p.refunded_amount]
        if not left:
            return
        self.done["chargeback"] += 1
        payment = data.draw(st.sampled_from(left))
        dispute = {"id": f"dp_{payment.id}", "object": "dispute", "amount": payment.amount,
                   "payment_intent": payment.provider_ref, "reason": "fraudulent"}
        steps = [("created", "needs_response"), ("funds_withdrawn", "needs_response")]
        steps += [("funds_reinstated", "won"), ("closed", "won")] if won else [("closed", "lost")]
        for kind, status in steps:
            self._deliver({"id": f"evt_{kind}_{payment.id}", "type": f"charge.dispute.{kind}",
                           "data": {"object": dict(dispute, status=status)}})
        self._record_reversals(payment.id)
        self.seen["chargeback won" if won else "chargeback lost"] += 1


def test_refunds_and_chargebacks_keep_the_journal_true_under_any_interleaving(db, clock,
                                                                            make_staff):
    reached = run_machine(ProviderJournalMachine, clock, make_staff)
    assert all(reached[path] > 0 for path in (
        "refund", "chargeback won", "chargeback lost", "exported movement")), reached


class PlanJournalMachine(JournalMachine):
    """The same, and the cardholder proposes a plan that waits for review while payments, the
    issuer's charges and feeds go on; a collector approves it on a later day and the cardholder
    agrees again when its terms changed (issue 11, item 4). Checks, besides the journal's: a
    plan starts with a total equal to what is owed on the day it starts (nothing paid during
    review is collected again, nothing charged during review is left owing), its schedule sums
    to that total, and a plan waiting for review or consent never pauses escalation."""

    collector = None
    plan_id: int | None = None

    def _plan(self) -> Plan | None:
        return _db.session.get(Plan, self.plan_id) if self.plan_id else None

    def _started(self, plan: Plan) -> None:
        balance = balance_of(self.account, self.day)
        assert plan.status == PlanStatus.ACTIVE and plan.started_on == self.day
        assert plan.total == balance.total, (plan.total, balance.total)
        assert sum(i.amount for i in plan.instalments) == plan.total
        self.seen["plan started on today's balance"] += 1

    def _commit(self, decide):
        """Run a plan decision as a request would: committed, or rolled back when refused
        (None then, e.g. the first payment date passed or the balance no longer allows it)."""
        with current_app.test_request_context():
            try:
                result = decide()
            except lifecycle.PlanError:
                _db.session.rollback()
                return None
            _db.session.commit()
        return result

    @precondition(lambda self: self.done["propose"] < 2)
    @rule(count=st.integers(2, 8))
    def cardholder_proposes_a_plan(self, count):
        plan = self._plan()
        if plan is not None and plan.status == PlanStatus.ACTIVE:
            return
        self.done["propose"] += 1
        with current_app.test_request_context():
            if plan is not None and plan.status in (PlanStatus.IN_REVIEW, PlanStatus.COUNTERED):
                endings.cancel(plan, self.day)
            # Weekly payments are outside the automatic-approval envelope: it waits for review.
            plan_spec = PlanSpec("instalment", count, "weekly", self.day + timedelta(days=7))
            if lifecycle.evaluate(self.account, plan_spec, self.day)[0].terms is None:
                return  # no plan can be priced (e.g. nothing is owed any more)
            try:
                plan = lifecycle.submit(self.account, plan_spec,
                                        consent_for(self.account, plan_spec, self.day),
                                        source="proposal", today=self.day)
            except lifecycle.PlanError:
                _db.session.rollback()
                return
            _db.session.commit()
        assert plan.status == PlanStatus.IN_REVIEW
        self.plan_id = plan.id

    @precondition(lambda self: self.plan_id is not None)
    @rule()
    def collector_approves(self):
        plan = self._plan()
        if plan.status != PlanStatus.IN_REVIEW:
            return
        consented = plan.total
        active = self._commit(lambda: decisions.approve(plan, self.collector, self.day))
        if active:
            self._started(plan)
        elif active is False:
            assert plan.status == PlanStatus.COUNTERED and plan.terms_hash is None
            assert plan.total != consented or plan.repriced["balance_now"] != \
                plan.repriced["balance_before"]
            self.seen["plan repriced at approval"] += 1

    @precondition(lambda self: self.plan_id is not None)
    @rule()
    def cardholder_agrees_again(self):
        plan = self._plan()
        if plan.status != PlanStatus.COUNTERED:
            return
        with current_app.test_request_context():
            consent = lifecycle.Consent(lifecycle.plan_hash(plan, "en"), "en", None, "machine",
                                        self.clock.now)
        if self._commit(lambda: decisions.accept_counter(plan, consent, self.day)):
            self._started(plan)
            self.seen["plan started after consent again"] += 1

    @invariant()
    def a_plan_waiting_never_pauses_escalation(self):
        plan = self._plan()
        if plan is not None and plan.status in (PlanStatus.IN_REVIEW, PlanStatus.COUNTERED):
            assert plan_pause(self.account, self.day) is None


def test_plans_approved_after_review_are_priced_on_the_day_they_start(db, clock, make_staff):
    PlanJournalMachine.collector = make_staff("collections_manager")
    reached = run_machine(PlanJournalMachine, clock, make_staff)
    assert all(reached[path] > 0 for path in (
        "plan started on today's balance", "plan repriced at approval",
        "plan started after consent again")), reached
