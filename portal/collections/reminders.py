"""Reminders before and after a plan payment falls due, and before and after a promised payment.

`send_reminders(now)` is the one function that sends them (`flask jobs reminders`; the job
engine runs it on its schedule, docs/operations.md). Four kinds, each queued once per
instalment or promise (the unique key of `SentReminder`), so the job can run as often as it
likes and several workers at once:

- instalment_due_soon: an unpaid instalment of an active plan falls due within the profile's
  `contact.reminders.due_soon_days` days of the cardholder's today (0: on the day only);
- instalment_missed: plan monitoring marked an instalment missed and the plan is still active
  (within its grace days); the message says, and its link pays, everything missed and due
  (the pay page's instalment choice, `payment_options`);
- promise_due: a promise to pay (a collector's or the cardholder's own), not yet kept, falls
  due within the same number of days;
- promise_broken: such a promise's last day (its date plus grace) has just passed without the
  ledger showing it kept; the message says so and links to the promise page.

Each is a collection message in the cardholder's language (portal.outbox): the contact rules
apply (quiet hours defer it, an opt-out, a cap or a dispute hold suppresses it, and a
suppressed reminder is not tried again) and it carries the opt-out line. When a plan change
moves an instalment (portal.plans.servicing), a reminder of it not yet delivered is withdrawn
and its key released (`on_plan_rescheduled`): the next run reminds of the new date instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import force_locale, gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from portal.accounts.models import Account, Cardholder
from portal.collections.models import PromiseToPay, SentReminder
from portal.collections.rules import BROKEN, PENDING, promise_status
from portal.collections.services import promise_paid_query
from portal.contact import clock
from portal.contact.batch import contact_rules, rules_key
from portal.contact.rules import MAX_DUE_SOON_DAYS
from portal.contact.services import Decision, apply_many
from portal.core.filters import long_date, money
from portal.core.urls import external_url
from portal.experiments.services import reminder_templates
from portal.extensions import db
from portal.links import services as links
from portal.links.models import PAY, PAY_INSTALMENT
from portal.events import PlanRescheduled
from portal.outbox.models import MessageKind, OutboxMessage
from portal.outbox.services import queue_to_cardholder
from portal.payments.models import AutopayMandate
from portal.payments.plan_link import due_now_for
from portal.plans.models import InstalmentStatus, Plan, PlanInstalment, PlanStatus

DUE_SOON, MISSED, PROMISE = "instalment_due_soon", "instalment_missed", "promise_due"
PROMISE_BROKEN = "promise_broken"
# A broken promise is told within this many days of its last day, never later (a notice
# about a promise long past would only confuse; at deploy, older ones are left alone).
BROKEN_NOTICE_DAYS = 2


@dataclass
class ReminderSummary:
    due_soon: int = 0
    missed: int = 0
    promises: int = 0
    broken: int = 0

    def line(self) -> str:
        return (f"reminders queued: payments due soon {self.due_soon}, payments missed "
                f"{self.missed}, promises due {self.promises}, promises broken {self.broken}")


@dataclass(frozen=True)
class _Due:
    kind: str
    subject_id: int
    account: Account
    amount: int
    due_on: date
    last_day: date | None = None  # a missed instalment: the last day that keeps the plan
    autopay_last4: str | None = None  # due soon, with autopay on: the card it will charge
    promised: int | None = None  # a broken promise: its amount (`amount` is what was paid)
    total: int | None = None  # a missed instalment: everything missed and due (what the link pays)


def send_reminders(now: datetime | None = None, *, batch_size: int = 200) -> ReminderSummary:
    """Queue every reminder due at `now` (default: the portal's clock) and commit; a second
    run queues nothing already queued. Returns what was queued."""
    now = clock.utc(now) if now else clock.now()
    summary = ReminderSummary()
    for find in (_instalments_due, _promises_due, _promises_broken):
        last_id = 0
        while True:  # keyset pages of candidates, one transaction each
            last_id, batch = find(now, last_id, batch_size)
            if last_id is None:
                break
            # The wording of each account's arm in a reminder experiment (one query a batch).
            wording = reminder_templates({due.account.id for due in batch}, now.date())
            for due in batch:
                if _queue(due, wording.get(due.account.id, "standard")):
                    summary.due_soon += due.kind == DUE_SOON
                    summary.missed += due.kind == MISSED
                    summary.promises += due.kind == PROMISE
                    summary.broken += due.kind == PROMISE_BROKEN
            db.session.commit()
    return summary


def _not_sent(kind: str, subject_id):
    return ~select(SentReminder.id).where(SentReminder.kind == kind,
                                          SentReminder.subject_id == subject_id).exists()


def _today_and_days(accounts: list[Account], now: datetime) -> dict[int, tuple[date, int]]:
    """Per account: the cardholder's today and the profile's due-soon days (one policy read
    per profile and day)."""
    keys = {a.id: rules_key(a.cardholder, a, now) for a in accounts}
    rules = contact_rules(set(keys.values()))
    return {a_id: (key[1], rules[key].due_soon_days) for a_id, key in keys.items()}


def _instalments_due(now: datetime, after: int, limit: int) -> tuple[int | None, list[_Due]]:
    """(last id looked at, or None when there are no more; reminders due among them)."""
    # Local days differ from UTC by at most a day: a wide window, narrowed per account below.
    utc_day = now.date()
    rows = db.session.execute(
        select(PlanInstalment, Plan).join(Plan, Plan.id == PlanInstalment.plan_id)
        .where(PlanInstalment.id > after, Plan.status == PlanStatus.ACTIVE,
               PlanInstalment.paid_amount < PlanInstalment.amount,
               PlanInstalment.due_date <= utc_day + timedelta(days=MAX_DUE_SOON_DAYS + 1),
               ((PlanInstalment.status == InstalmentStatus.DUE)
                & (PlanInstalment.due_date >= utc_day - timedelta(days=1))
                & _not_sent(DUE_SOON, PlanInstalment.id))
               | ((PlanInstalment.status == InstalmentStatus.MISSED)
                  & _not_sent(MISSED, PlanInstalment.id)))
        .options(selectinload(Plan.account).selectinload(Account.cardholder))
        .order_by(PlanInstalment.id).limit(limit)).all()
    if not rows:
        return None, []
    accounts = {plan.account_id: plan.account for _, plan in rows}
    local = _today_and_days(list(accounts.values()), now)
    autopay = dict(db.session.execute(
        select(AutopayMandate.account_id, AutopayMandate.card_last4).where(
            AutopayMandate.account_id.in_(set(accounts)), AutopayMandate.active.is_(True))).all())
    found = []
    for inst, plan in rows:
        today, days = local[plan.account_id]
        if inst.status == InstalmentStatus.DUE and today <= inst.due_date <= today + timedelta(
                days=days):
            found.append(_Due(DUE_SOON, inst.id, plan.account, inst.still_due, inst.due_date,
                              autopay_last4=autopay.get(plan.account_id)))
        elif inst.status == InstalmentStatus.MISSED:
            last_day = inst.due_date + timedelta(days=plan.grace_days)
            if today <= last_day:
                found.append(_Due(MISSED, inst.id, plan.account, inst.still_due, inst.due_date,
                                  last_day, total=max(due_now_for(plan.account, today),
                                                      inst.still_due)))
    return rows[-1][0].id, found


def _promise_candidates(now: datetime, after: int, limit: int, kind: str, window):
    """(last id looked at or None, rows of (promise, paid, account), each account's (today,
    due-soon days)) for promises meeting `window(paid)` (conditions) not yet sent `kind`."""
    paid = promise_paid_query().subquery()
    rows = db.session.execute(
        select(PromiseToPay, paid.c.paid).join(paid, paid.c.promise_id == PromiseToPay.id)
        .where(PromiseToPay.id > after, *window(paid), _not_sent(kind, PromiseToPay.id))
        .order_by(PromiseToPay.id).limit(limit)).all()
    if not rows:
        return None, [], {}
    accounts = {a.id: a for a in db.session.scalars(
        select(Account).where(Account.id.in_({p.account_id for p, _ in rows}))
        .options(selectinload(Account.cardholder)))}
    local = _today_and_days(list(accounts.values()), now)
    return (rows[-1][0].id, [(p, int(got), accounts[p.account_id]) for p, got in rows], local)


def _promises_due(now: datetime, after: int, limit: int) -> tuple[int | None, list[_Due]]:
    utc_day = now.date()
    last_id, rows, local = _promise_candidates(now, after, limit, PROMISE, lambda paid: (
        PromiseToPay.promised_on >= utc_day - timedelta(days=1),
        PromiseToPay.promised_on <= utc_day + timedelta(days=MAX_DUE_SOON_DAYS + 1)))
    found = []
    for promise, got, account in rows:
        today, days = local[account.id]
        if (promise_status(promise.amount, got, promise.last_day, today) == PENDING
                and today <= promise.promised_on <= today + timedelta(days=days)):
            found.append(_Due(PROMISE, promise.id, account, promise.amount - got,
                              promise.promised_on))
    return last_id, found


def _promises_broken(now: datetime, after: int, limit: int) -> tuple[int | None, list[_Due]]:
    """Promises (either source) whose last day has just passed without the ledger showing
    them kept: one notice each, from the day after the last day to BROKEN_NOTICE_DAYS later."""
    utc_day = now.date()
    last_id, rows, local = _promise_candidates(now, after, limit, PROMISE_BROKEN, lambda paid: (
        PromiseToPay.last_day >= utc_day - timedelta(days=BROKEN_NOTICE_DAYS + 1),
        PromiseToPay.last_day < utc_day + timedelta(days=1), paid.c.paid < PromiseToPay.amount))
    found = []
    for promise, got, account in rows:
        today, _days = local[account.id]
        if (promise_status(promise.amount, got, promise.last_day, today) == BROKEN
                and today <= promise.last_day + timedelta(days=BROKEN_NOTICE_DAYS)):
            found.append(_Due(PROMISE_BROKEN, promise.id, account, got, promise.promised_on,
                              last_day=promise.last_day, promised=promise.amount))
    return last_id, found


def _queue(due: _Due, wording: str = "standard") -> bool:
    """Claim the (kind, subject) key and queue the message; False when another run (or
    worker) claimed it first. One INSERT .. ON CONFLICT DO NOTHING in the batch's
    transaction, like webhook events (portal/payments/webhooks.py): a savepoint would release
    the outbox's after-commit delivery early."""
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}[dialect]
    claimed = db.session.scalar(
        insert(SentReminder).values(kind=due.kind, subject_id=due.subject_id,
                                    account_id=due.account.id, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["kind", "subject_id"])
        .returning(SentReminder.id))
    if claimed is None:
        return False
    holder: Cardholder = due.account.cardholder
    # A one-tap link (portal/links) instead of the plain page address; none when autopay pays,
    # nor in a broken promise's notice (it links to the promise page, behind sign-in).
    if (due.kind == DUE_SOON and due.autopay_last4) or due.kind == PROMISE_BROKEN:
        tap = None
    else:
        tap = links.issue(due.account, PAY if due.kind == PROMISE else PAY_INSTALMENT,
                          amount=due.total or due.amount, due_on=due.due_on)
    with force_locale(holder.locale or "en"):
        subject, body = _text(due, tap.url if tap else None, wording)
    message = queue_to_cardholder(holder, subject, body, purpose=due.kind,
                                  kind=MessageKind.COLLECTION, account_id=due.account.id)
    if tap is not None:
        links.attach(tap.link, message)  # the message the link (and what follows) came from
    if message is not None:
        db.session.execute(update(SentReminder).where(SentReminder.id == claimed)
                           .values(message_id=message.id))
    return True


def _missed_text(due: _Due, amount: str, day: str, link: str | None,
                 wording: str) -> tuple[str, str]:
    """A missed instalment: its amount and date, and what is missed and due in total."""
    total, last = money(due.total or due.amount, due.account.currency), long_date(due.last_day)
    if wording == "short":
        return (_("Plan payment missed"),
                _("Pay %(total)s by %(last)s to keep your plan: %(link)s", total=total,
                  last=last, link=link))
    if (due.total or due.amount) > due.amount:
        return (_("A payment under your plan was missed"),
                _("The payment of %(amount)s under your repayment plan that was due on "
                  "%(date)s has not reached us. With your other plan payments missed or due, "
                  "%(total)s is due now. If it is paid by %(last)s, your plan continues. You "
                  "can pay it now: %(link)s", amount=amount, date=day, total=total, last=last,
                  link=link))
    return (_("A payment under your plan was missed"),
            _("The payment of %(amount)s under your repayment plan that was due on "
              "%(date)s has not reached us. If it is paid by %(last)s, your plan continues. "
              "You can pay this payment now: %(link)s", amount=amount, date=day,
              last=last, link=link))


def on_plan_rescheduled(event: PlanRescheduled) -> None:
    """A plan change moved instalments: withdraw their reminders not yet delivered (suppressed
    with reason "plan_changed", audited; their one-tap links revoked) and release their keys,
    so none goes out for a date that no longer holds and the next run reminds of the new
    date. Flushes."""
    if not event.moved_instalment_ids:
        return
    sent = db.session.scalars(select(SentReminder).where(
        SentReminder.kind.in_((DUE_SOON, MISSED)),
        SentReminder.subject_id.in_(event.moved_instalment_ids))).all()
    pending = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.id.in_([r.message_id for r in sent if r.message_id]),
        OutboxMessage.delivered_at.is_(None), OutboxMessage.suppressed_at.is_(None),
        OutboxMessage.failed_at.is_(None))).all()
    apply_many([(m, Decision(suppressed="plan_changed")) for m in pending], clock.now())
    links.revoke_for_messages([m.id for m in pending])  # nobody holds a link to the old date
    if sent:
        db.session.execute(delete(SentReminder).where(SentReminder.id.in_([r.id for r in sent])))
    db.session.flush()


def _text(due: _Due, link: str | None, wording: str = "standard") -> tuple[str, str]:
    """Subject and body in the current locale: whole sentences with named placeholders;
    `link` is the message's one-tap link (portal/links). `wording` "short" is a
    champion/challenger variant of the due-soon reminder (portal/experiments)."""
    currency = due.account.currency
    amount, day = money(due.amount, currency), long_date(due.due_on)
    if due.kind == DUE_SOON and due.autopay_last4:
        return (_("A payment under your plan is due soon"),
                _("A payment of %(amount)s under your repayment plan is due on %(date)s. We will "
                  "take it from your card ending in %(last4)s on that day, as you asked.",
                  amount=amount, date=day, last4=due.autopay_last4))
    if due.kind == DUE_SOON and wording == "short":
        return (_("Plan payment due %(date)s", date=day),
                _("Pay %(amount)s by %(date)s: %(link)s", amount=amount, date=day, link=link))
    if due.kind == DUE_SOON:
        return (_("A payment under your plan is due soon"),
                _("A payment of %(amount)s under your repayment plan is due on %(date)s. You "
                  "can pay it in the portal: %(link)s", amount=amount, date=day, link=link))
    if due.kind == MISSED:
        return _missed_text(due, amount, day, link, wording)
    if due.kind == PROMISE_BROKEN:
        link = external_url("promises.page", account_id=due.account.id)
        return (_("Your promised payment has not reached us"),
                _("You told us you would pay %(amount)s by %(date)s. By %(last)s we had "
                  "received %(paid)s towards it, so the promise has ended. You can still pay, "
                  "or tell us about your situation: %(link)s", amount=money(due.promised, currency), date=day,
                  last=long_date(due.last_day), paid=amount, link=link))
    return (_("Your promised payment is due soon"),
            _("You told us you would pay %(amount)s by %(date)s. You can pay it in the "
              "portal: %(link)s", amount=amount, date=day, link=link))
