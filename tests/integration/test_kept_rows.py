"""Rows of the staff lists kept per process under what they show (portal.core.fragments.
kept_rows, issue 15): every list reads exactly as it does when each request draws its rows,
in both languages and whatever was asked before; a row that changed is drawn afresh; a
deadline's text follows the clock; and a kept row never reaches a page whose access rule
leaves it out."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.collections import services as collections
from portal.core import fragments
from portal.disputes.rules import DisputeStatus
from portal.extensions import db as _db
from portal.i18n import LOCALE_COOKIE
from portal.payments.states import PaymentStatus
from portal.plans.models import InstalmentStatus, PlanStatus
from portal.timeutil import utcnow
from tests.dispute_helpers import join, raise_dispute
from tests.integration.plan_helpers import TODAY, agree, spec
from tests.integration.test_staff_payments_list import _payment, payments  # noqa: F401

PAGES = ("/staff/disputes/?view=queue", "/staff/disputes/?view=mine",
         "/staff/disputes/?view=queue&state=closed", "/staff/payments", "/staff/payments?page=2",
         "/staff/plans", "/staff/plans?status=active", "/staff/plans/review",
         "/staff/collections/my-accounts")


def _body(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def _pages(client) -> list[str]:
    bodies = []
    for language in ("en", "zh_Hans", "en"):
        client.set_cookie(LOCALE_COOKIE, language, domain="localhost")
        for path in PAGES + PAGES[::-1]:
            bodies.append(_body(client, path))
    return bodies


def _debtor(make_account, number=None, **more):
    return make_account(principal=500_000, interest=20_000, fees=15_000,
                        oldest_unpaid_due_date=TODAY - timedelta(days=40),
                        **({"account_number": number} if number else {}), **more)


@pytest.fixture()
def lists(app, make_account, make_staff, payments, clock):  # noqa: F811 - the fixture above
    """A manager who is also customer service and a collector, with rows in every list:
    open disputes (one overdue, one paused, one assigned), a closed one, payments, agreed
    plans and proposals, and accounts assigned to the collector."""
    manager = make_staff("collections_manager", "customer_service")
    manager.name = "Mia Manager"
    join("billing", manager, "en")
    disputes = [raise_dispute(_debtor(make_account)) for _ in range(4)]
    disputes[0].acknowledge_by = utcnow() - timedelta(hours=3)
    disputes[1].status = DisputeStatus.AWAITING_CUSTOMER
    disputes[2].assignee_id = manager.id
    _db.session.commit()
    from portal.disputes import services
    services.withdraw(disputes[3], disputes[3].cardholder)
    with app.test_request_context():
        plans = [agree(_debtor(make_account), spec()) for _ in range(2)]
        proposals = [agree(_debtor(make_account), spec(count=24), source="proposal")
                     for _ in range(2)]
    collector = make_staff("collector")
    accounts = [_debtor(make_account, f"62100000000000{n:02d}") for n in range(3)]
    collections.assign([a.id for a in accounts], collector.id, manager)
    _db.session.commit()
    return {"manager": manager, "collector": collector, "disputes": disputes, "plans": plans,
            "proposals": proposals, "accounts": accounts}


def test_kept_rows_give_the_pages_every_request_drawing_its_rows_gives(
        app, client, login_as, lists, monkeypatch):
    login_as(client, lists["manager"])
    app.extensions.pop("kept_rows", None)
    kept = _pages(client)
    assert len(app.extensions["kept_rows"]) >= 2 * 10  # both languages, every list's rows
    assert kept[0].count(">D-") == 3 and "Overdue" in kept[0] and "Mia Manager" in kept[0]
    monkeypatch.setattr(fragments, "ROWS_KEPT", False)  # draw every row every time
    app.extensions.pop("kept_rows", None)
    assert _pages(client) == kept
    assert "kept_rows" not in app.extensions or not app.extensions["kept_rows"]
    login_as(client, lists["collector"])  # the worklist of a collector (not the team's)
    monkeypatch.setattr(fragments, "ROWS_KEPT", True)
    mine = _body(client, "/staff/collections/my-accounts")
    monkeypatch.setattr(fragments, "ROWS_KEPT", False)
    assert _body(client, "/staff/collections/my-accounts") == mine
    assert mine.count(">621000000000000") == 3


def test_a_row_that_changed_is_drawn_afresh(app, client, login_as, lists, make_staff):
    manager, (overdue, paused, assigned, _closed) = lists["manager"], lists["disputes"]
    login_as(client, manager)
    before = {path: _body(client, path) for path in PAGES[:-1]}
    assert _body(client, PAGES[0]) == before[PAGES[0]]  # kept: the same page again
    other = make_staff("customer_service")
    other.name = "Otto Other"
    assigned.assignee_id = other.id
    overdue.category = "already_paid"
    paused.status = DisputeStatus.ACKNOWLEDGED
    paused.acknowledged_at = utcnow()
    _db.session.commit()
    queue = _body(client, PAGES[0])
    row = re.search(rf"D-{assigned.id}</a></td>.*?</tr>", queue, re.S).group(0)
    assert "<td>Otto Other</td>" in row and "Mia Manager" not in row
    assert "Paused, waiting for the cardholder" in before[PAGES[0]]
    assert "Paused, waiting for the cardholder" not in queue
    assert queue != before[PAGES[0]]
    row = re.search(rf"D-{overdue.id}</a></td>\s*<td>([^<]*)</td>", queue).group(1)
    assert row != re.search(rf"D-{overdue.id}</a></td>\s*<td>([^<]*)</td>",
                            before[PAGES[0]]).group(1)
    payment = _payment(lists["accounts"][0], 9, PaymentStatus.PROCESSING, amount=77_700)
    _db.session.commit()
    assert "777.00" not in before["/staff/payments"]
    assert "777.00" in _body(client, "/staff/payments")
    payment.status = PaymentStatus.FAILED
    _db.session.commit()
    row = re.search(rf"#{payment.id}</a></td>.*?</tr>", _body(client, "/staff/payments"), re.S)
    assert "<td>Failed</td>" in row.group(0)
    plan = lists["plans"][0]
    row = re.search(rf"#{plan.id}</a></td>.*?</tr>", before["/staff/plans"], re.S)
    assert "0 of " in row.group(0)
    first = plan.instalments[0]
    first.paid_amount, first.status = first.amount, InstalmentStatus.PAID
    _db.session.commit()
    row = re.search(rf"#{plan.id}</a></td>.*?</tr>", _body(client, "/staff/plans"), re.S)
    assert "1 of " in row.group(0)
    plan.status = PlanStatus.BROKEN
    _db.session.commit()
    row = re.search(rf"#{plan.id}</a></td>.*?</tr>", _body(client, "/staff/plans"), re.S)
    assert "<td>Ended unpaid</td>\n  <td></td>" in row.group(0) and "1 of " in row.group(0)


def test_the_worklist_row_follows_the_ledger(client, login_as, lists):
    login_as(client, lists["collector"])
    account = lists["accounts"][0]
    number = account.account_number
    before = _body(client, "/staff/collections/my-accounts")
    row = re.search(rf">{number}</a></td>.*?</tr>", before, re.S).group(0)
    from portal.accounts.models import Component, EntryKind, LedgerEntry
    _db.session.add(LedgerEntry(account_id=account.id, kind=EntryKind.FEE,
                                component=Component.FEE, amount=4_321,
                                currency=account.currency, effective_date=TODAY,
                                source_ref="test-fee", posted_at=utcnow()))
    _db.session.commit()
    after = re.search(rf">{number}</a></td>.*?</tr>",
                      _body(client, "/staff/collections/my-accounts"), re.S).group(0)
    assert after != row and "5,393.21" in after  # 5,350.00 and the fee


def test_a_deadline_reads_as_the_clock_says(client, login_as, lists, clock):
    login_as(client, lists["manager"])
    dispute = lists["disputes"][2]
    dispute.acknowledge_by = utcnow() + timedelta(hours=3, minutes=45)
    _db.session.commit()

    def cell():
        page = _body(client, "/staff/disputes/?view=mine")
        return re.search(rf"D-{dispute.id}</a></td>.*?</tr>", page, re.S).group(0)

    assert "in 4 hours" in cell() and "Overdue" not in cell()
    clock.shift(timedelta(hours=2))
    assert "in 2 hours" in cell()
    clock.shift(timedelta(hours=4))
    assert "2 hours ago" in cell() and "Overdue" in cell()


def test_a_kept_row_never_reaches_a_page_that_may_not_show_it(
        app, client, login_as, make_account, make_staff, lists):
    """Rows are kept under what they show, not under who reads; whether a row is on a page
    is the list's query with its access filter, so another reader's page stays without it."""
    billing, fraud = make_staff("customer_service"), make_staff("customer_service")
    join("billing", billing, "en")
    join("fraud", fraud, "en")
    login_as(client, billing)
    seen = _body(client, "/staff/disputes/?view=queue")
    ids = set(re.findall(r">D-(\d+)</a>", seen))
    assert ids and len(app.extensions["kept_rows"]) > 0
    login_as(client, fraud)
    assert not ids & set(re.findall(r">D-(\d+)</a>", _body(client, "/staff/disputes/?view=queue")))
    login_as(client, lists["collector"])
    theirs = _body(client, "/staff/collections/my-accounts")
    other = make_staff("collector")
    login_as(client, other)
    assert re.findall(r">(6210\d+)</a>", theirs)
    assert not re.findall(r">(6210\d+)</a>", _body(client, "/staff/collections/my-accounts"))
