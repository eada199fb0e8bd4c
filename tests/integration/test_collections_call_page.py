"""The collector's account page carries a call (issue 13, item 12): who the cardholder is and
how to reach them, their local time and whether contact is allowed now (from the contact
rules), the plan with its instalments, promises, disputes, contact history and the ledger;
the "When" of a contact starts at now, in the staff pages' zone, and stays editable."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.collections import services
from portal.collections.models import (ContactChannel, ContactDirection, ContactLog,
                                       ContactOutcome)
from portal.contact import services as contact
from portal.extensions import db
from portal.outbox.models import Channel
from tests.clock import TODAY
from tests.dispute_helpers import raise_dispute
from tests.helpers import post_form
from tests.integration.plan_helpers import agree, spec

NIGHT = datetime(2026, 12, 30, 18, 30, tzinfo=timezone.utc)  # 02:30 on 31 Dec in Shanghai
NOON = datetime(2026, 12, 31, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai


@pytest.fixture()
def desk(app, make_account, make_cardholder, make_staff):
    holder = make_cardholder(full_name="Wang Fang", phone="+8613800138002",
                             email="wang.fang@example.com", timezone="Asia/Shanghai")
    account = make_account(holder, oldest_unpaid_due_date=date(2026, 11, 1))
    collector = make_staff("collector", name="Li Na")
    services.assign([account.id], collector.id, make_staff("collections_manager"))
    db.session.commit()
    return account, collector


def _page(client, account):
    response = client.get(f"/staff/collections/accounts/{account.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_says_who_to_call_how_and_their_local_time(client, login_as, desk, clock):
    account, collector = desk
    clock.move_to(NOON)
    login_as(client, collector)
    page = _page(client, account)
    assert "Account 6" in page and "Wang Fang" in page
    assert 'href="tel:+8613800138002"' in page and 'href="mailto:wang.fang@example.com"' in page
    assert "December 31, 2026, 12:00\u202fPM China Standard Time" in page and "Asia/Shanghai" in page
    assert "Contact allowed now" in page and "08:00 to 21:00, their time" in page


def test_outside_the_allowed_hours_the_page_says_when_contact_may_start(client, login_as, desk,
                                                                       clock):
    account, collector = desk
    clock.move_to(NIGHT)
    login_as(client, collector)
    page = _page(client, account)
    assert "Outside the allowed hours" in page and "Contact allowed now" not in page
    assert ("Contact may start at December 31, 2026, 8:00\u202fAM China Standard Time "
            "(December 31, 2026, 12:00\u202fAM Coordinated Universal Time)") in page
    assert "Email: would wait for the allowed hours." in page


def test_a_hold_and_an_opt_out_show_as_the_contact_rules_say(client, login_as, desk, clock):
    account, collector = desk
    clock.move_to(NOON)
    contact.set_preference(account.cardholder, Channel.SMS, on=False, source="page")
    raise_dispute(account, category="already_paid", amount=50_000,
                  description="I paid this in October.")
    login_as(client, collector)
    page = _page(client, account)
    assert "Do not chase payment now" in page and "Contact allowed now" not in page
    assert "Text message: the cardholder opted out." in page
    assert "I have already paid" in page  # the dispute, in the account panel


def test_the_plan_with_its_instalments_promises_history_and_ledger(app, client, login_as, desk):
    account, collector = desk
    with app.test_request_context():
        plan = agree(account, spec(count=3))
        db.session.commit()
    services.log_contact(account, collector, channel=ContactChannel.PHONE,
                         direction=ContactDirection.OUTBOUND, outcome=ContactOutcome.PROMISED,
                         note="Will pay on Friday.",
                         occurred_at=datetime(2026, 11, 27, 2, tzinfo=timezone.utc),
                         promise=services.Promise(30_000, TODAY + timedelta(days=3)))
    db.session.commit()
    login_as(client, collector)
    page = _page(client, account)
    plan_part = page[page.index('id="plan-h"'):page.index('id="promises-h"')]
    assert f"Plan {plan.id}: Active" in plan_part
    assert len(re.findall(r"<tr><td>\d</td>", plan_part)) == 3  # every instalment
    promises = page[page.index('id="promises-h"'):]
    assert "¥300.00" in promises and "Not yet due" in promises
    assert "Will pay on Friday." in page and "November 27, 2026, 2:00\u202fAM Coordinated Universal Time" in page
    assert "Ledger" in page and "Total outstanding" in page and "Balance from your statement" in page


def test_when_starts_at_now_in_the_staff_zone_and_can_be_changed(client, login_as, desk, clock):
    account, collector = desk
    clock.move_to(NOON)
    login_as(client, collector)
    page = _page(client, account)
    assert re.search(r'id="occurred_at"[^>]*value="2026-12-31T04:00"', page)
    assert "In UTC, the staff pages' time zone." in page
    path = f"/staff/collections/accounts/{account.id}"
    response = post_form(client, path + "/contacts", {
        "channel": "phone", "direction": "outbound", "outcome": "reached",
        "occurred_at": "2026-12-31T03:15"}, form_page=path)
    assert response.status_code == 302
    logged = db.session.scalar(select(ContactLog))
    assert logged.occurred_at.replace(tzinfo=timezone.utc) == datetime(2026, 12, 31, 3, 15,
                                                                       tzinfo=timezone.utc)
    for bad in ("2026-12-31T05:00", "yesterday", ""):  # the future, not a time, nothing
        response = post_form(client, path + "/contacts", {
            "channel": "phone", "direction": "outbound", "outcome": "reached",
            "occurred_at": bad}, form_page=path)
        assert response.status_code == 422, bad
    assert len(db.session.scalars(select(ContactLog)).all()) == 1
