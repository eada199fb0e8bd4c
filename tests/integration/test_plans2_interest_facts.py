"""Offers, the consent page and the review page state the interest concession: frozen, or the
reduced rate with what it adds, in the reader's language."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.balances.services import today_for
from portal.extensions import db as _db
from portal.plans.models import Plan
from portal.policy.services import policy_for, publish
from tests.integration.test_plan_routes import consent_post

FROZEN_EN = "No further interest is charged while you keep to this plan."
FROZEN_ZH = "只要您按计划还款，就不再收取新的利息。"
REDUCED = re.compile(r"<dt>Interest</dt><dd>Reduced to 5% a year, CN¥([\d,]+\.\d\d) in all</dd>")


@pytest.fixture()
def holder_account(make_account, make_cardholder):
    holder = make_cardholder()
    return holder, make_account(holder, principal=500_000, interest=20_000, fees=15_000)


def _reduce_interest_to_5_percent(account):
    """A new cn version whose plan limits (and so the envelope) reduce interest to 5 %."""
    today = today_for(account)
    doc = policy_for("cn", today).document
    plans = dict(doc["plans"], limits=dict(doc["plans"]["limits"], interest="reduced",
                                           interest_rate_percent="5"))
    publish("cn", dict(doc, plans=plans), today, today=today)
    _db.session.commit()


def _instalment_offers(html):
    return [o for o in html.split('<section class="offer') if "payments of" in o]


def test_offers_say_interest_is_frozen_while_the_plan_is_kept(client, login_as, holder_account):
    holder, account = holder_account
    login_as(client, holder)
    html = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    offers = _instalment_offers(html)
    assert offers and all(f"<dt>Interest</dt><dd>{FROZEN_EN}</dd>" in o for o in offers)


def test_offers_in_chinese_say_interest_is_frozen(client, login_as, make_cardholder,
                                                  make_account):
    holder = make_cardholder(locale="zh_Hans")
    account = make_account(holder, principal=500_000, interest=20_000, fees=15_000)
    client.set_cookie("portal_locale", "zh_Hans")
    login_as(client, holder)
    html = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    assert f"<dt>利息</dt><dd>{FROZEN_ZH}</dd>" in html
    assert FROZEN_EN not in html


def test_offers_consent_and_review_show_the_reduced_rate_and_what_it_adds(
        app, login_as, holder_account, make_staff):
    holder, account = holder_account
    _reduce_interest_to_5_percent(account)
    client = app.test_client()
    login_as(client, holder)
    html = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    offers = _instalment_offers(html)
    assert offers and all(REDUCED.search(o) for o in offers)
    assert FROZEN_EN not in html

    first = (today_for(account) + timedelta(days=7)).isoformat()
    page = client.get(f"/accounts/{account.id}/plans/confirm?kind=instalment&count=24"
                      f"&frequency=monthly&first_date={first}&down_payment=0&source=proposal")
    shown = REDUCED.search(page.get_data(as_text=True))
    consent_post(client, page, account.id)
    plan = _db.session.scalar(select(Plan))
    assert shown and plan.interest_added > 0
    staff = app.test_client()
    login_as(staff, make_staff("collector"))
    review = REDUCED.search(staff.get(f"/staff/plans/{plan.id}").get_data(as_text=True))
    assert review and review.group(1) == shown.group(1)
