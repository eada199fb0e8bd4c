"""Every offer and agreement states the annualised interest rate, the interest in all and the
smallest and largest payment (issue 16, cost disclosure); an agreement's PDF is the text the
cardholder accepted, word for word."""
import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from portal.balances.services import today_for
from portal.extensions import db as _db
from portal.plans import agreement
from portal.plans.models import Plan
from tests.integration.plan_helpers import agree, spec
from tests.integration.test_plan_routes import consent_post
from tests.integration.test_plans2_interest_facts import (  # noqa: F401  (a fixture)
    _reduce_interest_to_5_percent, holder_account)
from tests.pdf_reading import pdf_text, squeezed

RATE = re.compile(r"<dt>Annualised interest rate</dt><dd>(\d+\.\d\d)% a year</dd>")


def _offers(html):
    return html.split('<section class="card offer')[1:]


def test_every_offer_states_rate_interest_and_smallest_and_largest_payment(
        client, login_as, holder_account):
    holder, account = holder_account
    login_as(client, holder)
    offers = _offers(client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True))
    assert offers
    for offer in offers:
        assert RATE.search(offer).group(1) == "0.00"
        assert "<dt>Interest in all</dt><dd>CN¥0.00</dd>" in offer
        if "payments of" in offer:
            assert "<dt>Smallest payment</dt>" in offer and "<dt>Largest payment</dt>" in offer


def test_offers_in_chinese_state_the_annualised_rate(client, login_as, make_cardholder,
                                                     make_account):
    holder = make_cardholder(locale="zh_Hans")
    account = make_account(holder, principal=500_000, interest=20_000, fees=15_000)
    client.set_cookie("portal_locale", "zh_Hans")
    login_as(client, holder)
    html = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    assert "<dt>年化利率</dt><dd>年化 0.00%</dd>" in html
    assert "<dt>利息总额</dt>" in html and "<dt>最低每期还款额</dt>" in html
    assert "Annualised" not in html


def test_a_reduced_rate_plan_discloses_the_same_cost_on_offer_consent_plan_review_and_pdf(
        app, login_as, holder_account, make_staff):
    holder, account = holder_account
    _reduce_interest_to_5_percent(account)
    client = app.test_client()
    login_as(client, holder)
    first = (today_for(account) + timedelta(days=7)).isoformat()
    page = client.get(f"/accounts/{account.id}/plans/confirm?kind=instalment&count=12"
                      f"&frequency=monthly&first_date={first}&down_payment=0&source=proposal")
    html = page.get_data(as_text=True)
    rate = RATE.search(html).group(1)
    assert 5 <= float(rate) < 7
    assert f"Annualised interest rate: {rate}%" in html  # the agreement text itself
    consent_post(client, page, account.id)
    plan = _db.session.scalar(select(Plan))
    assert plan.terms_start == today_for(account)
    shown = client.get(f"/accounts/{account.id}/plans/{plan.id}").get_data(as_text=True)
    assert RATE.search(shown).group(1) == rate
    staff = app.test_client()
    login_as(staff, make_staff("collector"))
    review = staff.get(f"/staff/plans/{plan.id}").get_data(as_text=True)
    assert RATE.search(review).group(1) == rate
    # The accepted text is stored and its fingerprint is the consent's.
    assert hashlib.sha256(plan.terms_text.encode()).hexdigest() == plan.terms_hash


def test_the_pdf_prints_the_accepted_text_even_when_the_wording_changes_later(
        app, client, login_as, make_account, monkeypatch):
    account = make_account()
    with app.test_request_context():
        plan = agree(account, spec(count=3))
        _db.session.commit()
    accepted = plan.terms_text
    assert "Annualised interest rate: 0.00%" in accepted
    assert hashlib.sha256(accepted.encode()).hexdigest() == plan.terms_hash
    monkeypatch.setattr(agreement, "cost_lines", lambda terms, money: ["Reworded later."])
    login_as(client, account.cardholder)
    pdf = client.get(f"/accounts/{account.id}/plans/{plan.id}/agreement.pdf").data
    text = squeezed(pdf_text(pdf))
    assert squeezed("Annualised interest rate: 0.00%") in text
    assert squeezed("Reworded later.") not in text
    assert plan.terms_hash in text


def test_a_plan_accepted_before_the_text_was_stored_prints_from_its_terms(
        app, client, login_as, make_account):
    account = make_account()
    with app.test_request_context():
        plan = agree(account, spec(count=3))
        plan.terms_text = None
        _db.session.commit()
    login_as(client, account.cardholder)
    response = client.get(f"/accounts/{account.id}/plans/{plan.id}/agreement.pdf")
    assert response.status_code == 200
    assert squeezed("Interest in all") in squeezed(pdf_text(response.data))
