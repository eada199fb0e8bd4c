"""The inbox's batch of success events posted set-based (PostgreSQL): `fast_posting` over arrays.

`post_fast` takes the batch (arrival order) and the locks `fast_posting.lock_batch` took, and
posts, in *rounds*, every success event that `fast_posting.post` would post one by one: round
k holds the k-th such event of each account (so an account is at most once in a round), and
costs two statements whatever its size:

1. one *read* over arrays (`_read`): for each event its account's latest earlier payment
   date, the `payment_posted` guards (their locks: the nightly state), the account's sums as
   of the payment's day and, for the accounts no guard sends to the general path, the audit
   stream heads, taken sorted into the audit lock order after every guard of the round was
   evaluated (docs/money.md, "Lock order": the guards' locks before the heads);
2. Python pricing by `fast_posting.priced`, which `fast_posting.post` prices with (`price`,
   `toward_minimum`, `balance_from`, `entry_rows`, `notify.confirmation_params`), the audit
   events chained after the heads read (`audit.plain_append_many`);
3. one *write* (`_WRITE`): every entry, payment row, audit event with its head's move and
   confirmation of the round, whose counts are checked.

The next round reads what this one wrote, so an account's second posting in a batch sees the
first's entries, its payment (the latest earlier payment date) and its audit head.

Everything else is left to the caller, to be applied one by one after the rounds, in arrival
order (`inbox._apply`): events of other kinds, successes `fast_posting.precheck` sends to the
general path, and any success that arrives after an event that may change its account (an
event applied one by one naming a payment of that account, or a success of it that a guard
sent to the general path): so, per account, the rounds post a prefix of its events in arrival
order, and the one-by-one pass applies the rest in the same order; accounts are independent
of each other. The results are those of `webhooks.apply_recorded` one by one
(tests/integration/test_webhook_inbox.py holds them to the request path).
"""
from __future__ import annotations

import json
from functools import cache

from sqlalchemy import (BigInteger, Date, String, bindparam, cast, false, func, literal, not_,
                        or_, select, text, true)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from portal.audit.services import (APPEND_CTES, check_plain_appends, heads_lock_where,
                                   plain_append_many, stream_for)
from portal.balances.sums import NAMES, sums_lateral
from portal.domain.dates import local_date
from portal.extensions import db
from portal.outbox.services import MESSAGES_CTE, queued_transactional, transactional_arrays
from portal.payments import fast_posting
from portal.payments.posting import _latest_paid_on, posted_after, posting_day
from portal.payments.states import PaymentStatus
from portal.payments.webhooks import INTENT_EVENTS, handled, success_intent
from portal.timeutil import utcnow

S = PaymentStatus
SUCCEEDED = "payment_intent.succeeded"


def post_fast(events: list[dict], locked: dict) -> set[int]:
    """Post set-based what the fast path would post of the batch `events` (arrival order;
    `locked`: `fast_posting.lock_batch`'s claims). The indices of the events done: posted,
    or found posted already (`precheck` False: nothing to do). The caller applies every
    other event one by one, in arrival order, after this call."""
    done: set[int] = set()
    queues: dict[int, list] = {}  # account id -> its events for the rounds, in arrival order
    general: list[int] = []  # events applied one by one that may change some account
    for n, event in enumerate(events):
        claimed = locked.get(n)
        if claimed is not None and claimed.row is not None:
            intent = success_intent(event)
            verdict = fast_posting.precheck(claimed.row, intent)
            if verdict is False:
                done.add(n)
                continue
            if verdict:
                queues.setdefault(claimed.row.account_id, []).append((n, claimed.row, intent))
                continue
        if handled(event.get("type")):
            general.append(n)
    if not queues:
        return done
    named, posted = _payments_named(events, general)
    for queue in queues.values():  # posted before any later event: by the batch's success
        posted.update((row.id, (n, row.provider_ref)) for n, row, _ in queue)
    for n in general:
        if _inert(events[n], n, posted):
            done.add(n)
            named.pop(n, None)
    _cut_at_general(queues, named)
    queues = {account: queue for account, queue in queues.items() if queue}
    now = utcnow()
    while queues:
        round_ = [queue.pop(0) for queue in queues.values()]
        for (n, row, _), posted in zip(round_, post_many(round_, now)):
            if posted:
                done.add(n)
            else:  # the general path: this account's later events go one by one after it
                queues[row.account_id].clear()
        queues = {account: queue for account, queue in queues.items() if queue}
    return done


def _cut_at_general(queues: dict[int, list], named: dict[int, set[int]]) -> None:
    """Keep in each account's queue only the events before the first event applied one by
    one that names a payment of the account (`named`: event index -> account ids)."""
    for account_id, queue in queues.items():
        first = min((n for n, accounts in named.items() if account_id in accounts),
                    default=None)
        if first is not None:
            queue[:] = [item for item in queue if item[0] < first]


def _payments_named(events: list[dict], indices: list[int]
                    ) -> tuple[dict[int, set[int]], dict[int, tuple[int, str]]]:
    """For each event of `indices`, the accounts of the payments it names (by the id in its
    metadata, by its object's id or payment intent); and the payments named by id that are
    posted (succeeded or refunded: no intent event moves them back), as (-1, their provider
    reference). One statement, no lock (a payment's account never changes, and a posted
    payment stays posted)."""
    id_n, ids, ref_n, refs = [], [], [], []
    for n in indices:
        obj = (events[n].get("data") or {}).get("object") or {}
        payment_id = fast_posting.event_payment_id(obj)
        if payment_id:
            id_n.append(n)
            ids.append(payment_id)
        for ref in {obj.get("id"), obj.get("payment_intent")}:
            if isinstance(ref, str):
                ref_n.append(n)
                refs.append(ref)
    named: dict[int, set[int]] = {}
    posted: dict[int, tuple[int, str]] = {}
    if ids or refs:
        for row in db.session.execute(_NAMED, dict(
                id_n=id_n, ids=ids, ref_n=ref_n, refs=refs,
                posted=[S.SUCCEEDED.value, S.REFUNDED.value])):
            named.setdefault(row.n, set()).add(row.account_id)
            if row.posted and row.provider_ref is not None:
                posted[row.id] = (-1, row.provider_ref)
    return named, posted


_NAMED = text(
    "SELECT i.n, p.account_id, p.id, p.provider_ref, p.status = ANY(CAST(:posted AS varchar[])) "
    "AS posted FROM unnest(CAST(:id_n AS int[]), CAST(:ids AS bigint[])) AS i(n, id) "
    "JOIN payment p ON p.id = i.id UNION "
    "SELECT r.n, p.account_id, p.id, p.provider_ref, false FROM unnest(CAST(:ref_n AS int[]), "
    "CAST(:refs AS varchar[])) AS r(n, ref) JOIN payment p ON p.provider_ref = r.ref")


def _inert(event: dict, n: int, posted: dict[int, tuple[int, str]]) -> bool:
    """A late intent event (processing, requires action, failed, canceled) about a payment
    posted before it, as `_on_intent` finds the payment (by the id in its metadata, with the
    event's intent as its reference): `apply_intent` changes nothing for it (no state is
    reachable from a posted payment but by a refund), so it is done without being applied.
    `posted`: payment id -> (when, reference): posted in the database (-1), or by this
    batch's success at index `when` (a success that takes the fast path posts its payment,
    set-based or, after a guard, the general way)."""
    if event.get("type") not in INTENT_EVENTS or event.get("type") == SUCCEEDED:
        return False
    obj = (event.get("data") or {}).get("object") or {}
    when, ref = posted.get(fast_posting.event_payment_id(obj) or 0, (n, None))
    return when < n and isinstance(obj.get("id"), str) and ref == obj["id"]


def post_many(items: list[tuple], now) -> list[bool | None]:
    """One round: `items` (index, claimed row, intent), each `precheck`ed True and each of
    another account, posted as `fast_posting.post` would post each (True), or None where a
    guard sends it to the general path (it holds no head then, unless an earlier round of
    the batch posted on its account)."""
    days = [posting_day(row.timezone, local_date(now, row.timezone), intent.succeeded_at)
            for _, row, intent in items]
    read = {r.payment_id: r for r in db.session.execute(_read(), dict(
        accounts=[row.account_id for _, row, _ in items],
        payments=[row.id for _, row, _ in items], days=days))}
    outcomes: list[bool | None] = []
    entries, paid, specs, tips, messages = [], [], [], {}, []
    for (_, row, _), paid_on in zip(items, days):
        got = read[row.id]
        if got.general:
            outcomes.append(None)
            continue
        if got.event_count is None:
            raise RuntimeError(f"batch posting of payment {row.id}: no audit head taken")
        rows, split, toward, receipt, message = fast_posting.priced(row, paid_on, got, now)
        entries += rows
        paid.append((row.id, json.dumps(split), toward, paid_on, receipt))
        subject = fast_posting.PostedSubject(row.id, row.account_id)
        tips[stream_for(subject)] = (got.event_count, got.last_hash)
        specs.append(dict(action="payment.posted", subject=subject,
                          before={"status": S(row.status).value},
                          after=posted_after(row.amount, split, [], receipt)))
        messages.append(message)
        outcomes.append(True)
    if paid:
        _write(entries, paid, specs, tips, messages, now)
    return outcomes


def _write(entries, paid, specs, tips, messages, now) -> None:
    audit = plain_append_many(specs, tips)
    sent = transactional_arrays(messages)
    written = db.session.execute(_WRITE, dict(
        posted_at=now, status=S.SUCCEEDED.value, plan_application=json.dumps([]),
        e_account=[r["account_id"] for r in entries],
        e_kind=[fast_posting.column_text(r["kind"]) for r in entries],
        e_component=[fast_posting.column_text(r["component"]) for r in entries],
        e_amount=[r["amount"] for r in entries], e_currency=[r["currency"] for r in entries],
        e_day=[r["effective_date"] for r in entries],
        e_source_ref=[r["source_ref"] for r in entries],
        **dict(zip(("p_id", "p_allocation", "p_toward", "p_day", "p_receipt"),
                   map(list, zip(*paid)))),
        **audit, **sent)).one()
    if written.entries != len(entries) or written.paid != len(paid) \
            or len(written.message_ids or []) != len(sent["m_channel"]):
        raise RuntimeError("batch posting: not written as priced")
    check_plain_appends(written.inserted, written.moved, audit)
    for message_id in written.message_ids or []:
        queued_transactional(message_id)


# A round's writes in one round trip: the entries (in the order priced), the payments' rows,
# the audit events with their streams' heads moved (`APPEND_CTES`; the heads were taken by
# the read) and the confirmations (`MESSAGES_CTE`). The counts say what was written.
_WRITE = text(
    "WITH entries AS (INSERT INTO ledger_entry (account_id, kind, component, amount, currency, "
    "effective_date, source_ref, reversal_of_id, posted_at) "
    "SELECT e.account_id, e.kind, e.component, e.amount, e.currency, e.day, e.source_ref, "
    "NULL, CAST(:posted_at AS timestamptz) FROM unnest(CAST(:e_account AS bigint[]), "
    "CAST(:e_kind AS varchar[]), CAST(:e_component AS varchar[]), CAST(:e_amount AS bigint[]), "
    "CAST(:e_currency AS varchar[]), CAST(:e_day AS date[]), CAST(:e_source_ref AS varchar[])) "
    "WITH ORDINALITY AS e(account_id, kind, component, amount, currency, day, source_ref, n) "
    "ORDER BY e.n RETURNING id), "
    "paid AS (UPDATE payment p SET status = :status, allocation = CAST(u.allocation AS json), "
    "toward_minimum = u.toward, paid_on = u.day, posted_at = CAST(:posted_at AS timestamptz), "
    "failure_code = NULL, failure_message = NULL, receipt_number = u.receipt, "
    "plan_application = CAST(:plan_application AS json), "
    "updated_at = CAST(:posted_at AS timestamptz) FROM unnest(CAST(:p_id AS bigint[]), "
    "CAST(:p_allocation AS text[]), CAST(:p_toward AS bigint[]), CAST(:p_day AS date[]), "
    "CAST(:p_receipt AS varchar[])) AS u(id, allocation, toward, day, receipt) "
    "WHERE p.id = u.id RETURNING p.id), "
    + APPEND_CTES + ", " + MESSAGES_CTE + " "
    "SELECT (SELECT count(*) FROM entries) AS entries, (SELECT count(*) FROM paid) AS paid, "
    "(SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM moved) AS moved, "
    "(SELECT array_agg(id ORDER BY id) FROM message) AS message_ids")


@cache
def _read():
    """The round's read (binds :accounts, :payments, :days, one element an event): the
    one-posting read of `fast_posting` (its guards, `_latest_paid_on`, `account_sums`) with
    each bound value made the event's column, and the heads of the accounts no guard sends
    to the general path (`audit.heads_lock_where`: sorted after every guard's lock). Built
    once, on the first batch, after wiring registered the guards."""
    events = (func.unnest(bindparam("accounts", type_=ARRAY(BigInteger)),
                          bindparam("payments", type_=ARRAY(BigInteger)),
                          bindparam("days", type_=ARRAY(Date)))
              .table_valued("account_id", "payment_id", "paid_on").render_derived("e"))
    general = func.coalesce(or_(false(), *[_bound(guard, events.c)
                                           for guard in fast_posting.guards()]), false())
    rows = (select(events.c.account_id, events.c.payment_id, events.c.paid_on,
                   general.label("general")).cte("g").prefix_with("MATERIALIZED"))
    stream = literal("account:", String).concat(cast(rows.c.account_id, String))
    heads = heads_lock_where(stream, not_(rows.c.general))
    sums = sums_lateral(rows.c.account_id, rows.c.paid_on, outer=rows)
    latest = _bound(_latest_paid_on(), rows.c).scalar_subquery()
    return (select(rows.c.payment_id, rows.c.general, latest.label("latest"),
                   *[column.label(name) for column, name in zip(sums.c, NAMES)],
                   heads.c.event_count, heads.c.last_hash)
            .select_from(rows.join(sums, true()).outerjoin(heads, heads.c.stream == stream)))


def _bound(expression, columns):
    """`expression` with its binds :account_id, :payment_id, :paid_on made `columns`'s."""
    def swap(element):
        if isinstance(element, BindParameter) and element.key in columns:
            return columns[element.key]
        return None
    return replacement_traverse(expression, {}, swap)
