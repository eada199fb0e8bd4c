"""Issue 13 items 4, 5 and 6 on the cardholder's pages: one rule (portal.domain.standing)
says where the account stands on the dashboard and the timeline alike."""
from datetime import date, timedelta

from portal.extensions import db as _db
from portal.legal import services as legal
from portal.plans import decisions, lifecycle
from portal.plans.jobs import run_plan_monitoring
from tests.integration.legal_helpers import TODAY, freeze, late_account, refer
from tests.integration.plan_helpers import agree, consent_for, spec


def _page(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_after_legal_files_a_claim_on_a_kept_plan_the_claim_leads_and_no_plan_is_urged(
        client, login_as, make_cardholder, make_account, make_staff, clock):
    freeze(clock)
    holder = make_cardholder()
    # 88 days late (M2): a six-month plan is agreed at once
    account = late_account(make_account, holder, oldest_unpaid_due_date=date(2026, 9, 1))
    refer(account)
    agree(account)
    legal.record_action(account, make_staff("legal"), legal.StepInput(
        kind="claim_filed", occurred_on=date(2026, 11, 20), amount=1_200_000), TODAY)
    _db.session.commit()
    login_as(client, holder)
    for path in ("/home", f"/accounts/{account.id}/timeline"):
        page = _page(client, path)
        assert "Escalation is paused while your plan is kept." not in page, path
        claim = page.index("On November 20, 2026 we filed a claim for CN¥12,000.00 with the court.")
        assert claim < page.index("Your repayment plan continues: keep paying as agreed."), path
        assert "Agree a repayment plan" not in page, path
        assert f'/accounts/{account.id}/plans/' in page  # the plan itself is one click away


def test_after_a_plan_breaks_the_dashboard_says_so_and_what_can_be_done(
        client, login_as, make_cardholder, make_account, clock):
    holder = make_cardholder()
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    agree(account)  # first payment 5 December, 10 grace days
    _db.session.commit()
    day = date(2026, 12, 16)
    clock.move_to(day)
    run_plan_monitoring(day)
    login_as(client, holder)
    page = _page(client, "/home")
    assert ("Your repayment plan ended on December 16, 2026 because a payment was still unpaid "
            "after the grace period.") in page
    assert "Escalation has resumed, so the steps for this account apply again." in page
    assert f'href="/accounts/{account.id}/plans/hardship"' in page
    assert f'href="/accounts/{account.id}/plans/offers"' in page  # a new plan
    assert f'href="/accounts/{account.id}/pay"' in page
    timeline = _page(client, f"/accounts/{account.id}/timeline")
    assert "Your repayment plan ended on December 16, 2026" in timeline


def test_a_missed_payment_within_grace_says_how_to_keep_the_plan(
        client, login_as, make_cardholder, make_account, clock):
    holder = make_cardholder()
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    agree(account)
    _db.session.commit()
    day = date(2026, 12, 7)
    clock.move_to(day)
    run_plan_monitoring(day)  # the 5 December payment is missed; the plan is still active
    login_as(client, holder)
    page = _page(client, "/home")
    assert "that was due on December 5, 2026 has not reached us." in page
    assert "If it is paid by December 15, 2026, your plan continues." in page
    assert f'href="/accounts/{account.id}/pay?choice=instalment"' in page
    assert "Escalation is paused while your plan is kept." in page


def test_a_collectors_counter_offer_is_on_the_dashboard_with_a_link_to_reply(
        client, login_as, make_cardholder, make_account, make_staff, clock):
    holder = make_cardholder()
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    asked = spec(count=24)  # beyond the auto-approval envelope: reviewed
    plan = lifecycle.submit(account, asked, consent_for(account, asked), source="proposal",
                            today=TODAY)
    decisions.counter(plan, make_staff("collector"), spec(count=18), TODAY,
                      "Eighteen months keeps each payment affordable.")
    _db.session.commit()
    login_as(client, holder)
    page = _page(client, "/home")
    assert "We have offered you different terms for your plan proposal." in page
    assert f'href="/accounts/{account.id}/plans/{plan.id}"' in page
    assert "See the new terms and reply" in page
    assert "Agree a repayment plan" not in page


def test_a_proposal_waiting_for_review_is_on_the_dashboard(client, login_as, make_cardholder,
                                                            make_account):
    holder = make_cardholder()
    account = make_account(holder, principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=date(2026, 11, 1))
    asked = spec(count=24, first_date=TODAY + timedelta(days=7))
    lifecycle.submit(account, asked, consent_for(account, asked), source="proposal", today=TODAY)
    _db.session.commit()
    login_as(client, holder)
    page = _page(client, "/home")
    assert "Your plan proposal is waiting for our review." in page
    assert "Agree a repayment plan" not in page
