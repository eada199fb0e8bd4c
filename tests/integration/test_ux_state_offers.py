"""Issue 13 item 7: after a plan is cancelled the offers page does not contradict itself, and
a plan that was agreed at once a minute earlier now says why it needs a review."""
from portal.extensions import db as _db
from portal.plans import endings
from tests.integration.plan_helpers import TODAY, agree, spec


def _cancelled_plan(make_cardholder, make_account, **holder):
    h = make_cardholder(**holder)
    account = make_account(h, principal=500_000, interest=20_000, fees=15_000)
    plan = agree(account)  # inside the auto-approval envelope: active at once
    endings.cancel(plan, TODAY)
    _db.session.commit()
    return h, account


def test_offers_after_a_cancelled_plan_say_why_a_review_is_needed(client, login_as,
                                                                     make_cardholder, make_account):
    holder, account = _cancelled_plan(make_cardholder, make_account)
    login_as(client, holder)
    html = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    assert "These plans can be agreed straight away" not in html
    assert "No ready-made plan fits" not in html
    assert ("You have had 1 plan in the last 12 months, counting one you cancelled, so a new "
            "plan needs a review by our team before it starts.") in html
    assert "Propose my own" in html


def test_the_same_plan_agreed_at_once_before_now_names_the_reason_for_review(
        client, login_as, make_cardholder, make_account):
    holder, account = _cancelled_plan(make_cardholder, make_account)
    login_as(client, holder)
    s = spec()
    html = client.get(f"/accounts/{account.id}/plans/confirm", query_string=dict(
        kind=s.kind, count=s.count, frequency=s.frequency, first_date=s.first_date.isoformat(),
        down_payment=0, source="offer")).get_data(as_text=True)
    assert "This plan needs a review by our team" in html
    assert "counting one you cancelled" in html


def test_offers_in_chinese_give_the_reason_too(client, login_as, make_cardholder, make_account):
    holder, account = _cancelled_plan(make_cardholder, make_account, locale="zh_Hans")
    client.set_cookie("portal_locale", "zh_Hans")
    login_as(client, holder)
    html = client.get(f"/accounts/{account.id}/plans/offers").get_data(as_text=True)
    assert "You have had" not in html and "12 个月" in html
