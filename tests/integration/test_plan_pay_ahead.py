"""Issue 16, plan servicing: pay a missed instalment with what is due, pay extra (the last
instalments first, the schedule shown before paying) or pay off the plan; reversals undo it
in the opposite order; collectors see which payment paid which instalment early."""
import re

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.payments.models import Payment, PaymentChoice, ReversalKind
from portal.payments.posting import lock_payment, post_reversal
from portal.plans.models import InstalmentStatus, Plan, PlanStatus
from tests.integration.payment_helpers import only_payment, pay_with_card, start_payment
from tests.integration.payment_helpers import account  # noqa: F401  (fixture)
from tests.integration.plan_pay_helpers import INSTALMENT, planned, posted  # noqa: F401

PAY = "/accounts/{}/pay"


def _state(plan):
    db.session.expire_all()
    plan = db.session.get(Plan, plan.id)
    return plan.status, [(i.paid_amount, i.status.value) for i in plan.instalments]


def _audit(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_the_next_instalment_choice_pays_what_was_missed_and_what_is_due(client, planned):
    account, plan = planned
    html = client.get(PAY.format(account.id) + "?choice=instalment").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="instalment"|<input[^>]*value="instalment"'
                     r'[^>]*checked', html)
    assert "CN¥1,000.00" in html  # the missed CN¥500.00 and today's CN¥500.00
    assert "Your plan&#39;s missed and due payments" in html
    _data, response = start_payment(client, account, "instalment")
    assert response.status_code == 302
    payment = only_payment(account.id)
    assert payment.amount == 2 * INSTALMENT
    pay_with_card(client, payment.id)
    assert _state(plan) == (PlanStatus.ACTIVE, [(INSTALMENT, "paid"), (INSTALMENT, "paid"),
                                                (0, "due"), (0, "due")])


def test_another_amount_shows_the_schedule_first_then_pays_the_last_instalments(client, planned):
    account, plan = planned
    data, first = start_payment(client, account, "other", "1,250.00")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "Your plan after this payment" in html
    assert "You will have 2 payments left under your plan" in html and "CN¥250.00" in html
    assert db.session.scalars(select(Payment)).first() is None  # nothing opened yet
    confirmed = client.post(PAY.format(account.id),
                            data={**data, "previewed": form_tokens_previewed(html)})
    assert confirmed.status_code == 302
    payment = only_payment(account.id)
    assert (payment.choice, payment.amount) == (PaymentChoice.OTHER, 125_000)
    pay_with_card(client, payment.id)
    # CN¥1,000.00 due now oldest first, the CN¥250.00 more to the last instalment
    assert _state(plan) == (PlanStatus.ACTIVE, [(INSTALMENT, "paid"), (INSTALMENT, "paid"),
                                                (0, "due"), (25_000, "due")])
    [shown] = _audit("payment.plan_ahead")
    assert shown.after["schedule_after"] == [[3, INSTALMENT], [4, 25_000]]
    [applied] = _audit("plan.payment_applied")
    assert applied.after["order"] == "ahead" and applied.after["payment_id"] == payment.id


def form_tokens_previewed(html):
    return re.search(r'name="previewed"[^>]*value="([^"]*)"', html).group(1)


def test_the_same_page_submitted_twice_opens_one_payment_audited_once(client, planned):
    account, _plan = planned
    data, first = start_payment(client, account, "payoff")
    again = client.post(PAY.format(account.id), data=data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    only_payment(account.id)
    assert len(_audit("payment.plan_ahead")) == 1


def test_paying_off_without_a_plan_is_refused_and_opens_nothing(client, account):
    data, _page = start_payment(client, account, "overdue")
    db.session.rollback()
    response = client.post(PAY.format(account.id), data={**data, "choice": "payoff",
                                                         "nonce": data["nonce"] + "x"})
    assert response.status_code == 422
    assert len(db.session.scalars(select(Payment)).all()) == 1  # the overdue one only


def test_changing_the_amount_after_the_schedule_shows_the_new_schedule(client, planned):
    account, _plan = planned
    data, first = start_payment(client, account, "other", "1,250.00")
    previewed = form_tokens_previewed(first.get_data(as_text=True))
    again = client.post(PAY.format(account.id),
                        data={**data, "other_amount": "1,500.00", "previewed": previewed})
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "Your plan after this payment" in html
    assert "You will have 1 payment left under your plan" in html  # 1,500.00: instalment 3
    assert form_tokens_previewed(html) == "150000"
    assert db.session.scalars(select(Payment)).first() is None


def test_paying_off_the_plan_completes_it(client, planned):
    account, plan = planned
    html = client.get(PAY.format(account.id)).get_data(as_text=True)
    assert "Pay off your plan" in html and "CN¥2,000.00" in html
    _data, response = start_payment(client, account, "payoff")
    assert response.status_code == 302
    payment = only_payment(account.id)
    assert (payment.choice, payment.amount) == (PaymentChoice.OTHER, 4 * INSTALMENT)
    pay_with_card(client, payment.id)
    status, instalments = _state(plan)
    assert status == PlanStatus.COMPLETED
    assert instalments == [(INSTALMENT, "paid")] * 4
    [shown] = _audit("payment.plan_ahead")
    assert shown.after["payoff"] is True and shown.after["schedule_after"] == []


def test_a_refund_of_an_extra_payment_reopens_the_last_paid_first(app, planned):
    account, plan = planned
    payment = posted(account, 175_000)  # 1,000.00 due now, then instalments 4 and half of 3
    assert _state(plan)[1] == [(INSTALMENT, "paid"), (INSTALMENT, "paid"),
                               (25_000, "due"), (INSTALMENT, "paid")]
    with app.test_request_context():
        post_reversal(lock_payment(payment.id), 60_000, kind=ReversalKind.REFUND,
                      external_ref="re_1", reason="asked")
        db.session.commit()
    # undone in the opposite order: instalment 3's CN¥250.00, then CN¥350.00 of instalment 4
    assert _state(plan)[1] == [(INSTALMENT, "paid"), (INSTALMENT, "paid"),
                               (0, "due"), (15_000, "due")]


def test_payments_never_pay_an_instalment_twice_and_the_plan_completes_once(app, planned):
    account, plan = planned
    posted(account, 150_000, key="a")
    posted(account, 30_000, choice=PaymentChoice.OVERDUE, key="b")
    posted(account, 100_000, key="c")  # 20_000 left on instalment 3: the rest is not the plan's
    status, instalments = _state(plan)
    assert status == PlanStatus.COMPLETED
    assert sum(paid for paid, _ in instalments) == 4 * INSTALMENT
    assert len(_audit("plan.completed")) <= 1


def test_collectors_see_which_payment_paid_an_instalment_early(app, planned, make_staff,
                                                                login_as):
    account, plan = planned
    payment = posted(account, 150_000)
    staff = login_as(app.test_client(), make_staff("collector"))
    html = staff.get(f"/staff/plans/{plan.id}").get_data(as_text=True)
    assert "Paid early" in html and f"Payment {payment.id}" in html
    plan = db.session.get(Plan, plan.id)
    # 1 and 2 were missed and due (not early); 4 was paid ahead of 3
    assert plan.paid_early == {plan.instalments[3].id}


def test_the_failed_autopay_notice_links_one_tap_to_paying_the_instalment(runner, make_account,
                                                                           outbox):
    from portal.balances.services import today_for
    from portal.links.models import PAY_INSTALMENT, OneTapLink
    from tests.integration.payment_helpers import make_active_plan
    from tests.integration.test_autopay_jobs import autopay_on

    account = make_account()
    make_active_plan(account, [30_000], today_for(account))
    autopay_on(account, "4000000000000341")  # saves fine, declined when charged
    assert runner.invoke(args=["jobs", "autopay"]).exit_code == 0
    [mail] = [m for m in outbox() if "did not go through" in m["body"]]
    assert re.search(r"/l/[\w-]+", mail["body"]) and "/payments/" not in mail["body"]
    link = db.session.scalar(select(OneTapLink))
    assert link.purpose == PAY_INSTALMENT and link.message_id is not None


def test_a_chargeback_of_a_payoff_reopens_the_plan_and_its_instalments(app, planned, make_staff,
                                                                       login_as):
    account, plan = planned
    payment = posted(account, 4 * INSTALMENT)
    assert _state(plan)[0] == PlanStatus.COMPLETED
    with app.test_request_context():
        post_reversal(lock_payment(payment.id), 4 * INSTALMENT, kind=ReversalKind.CHARGEBACK,
                      external_ref="dp_1", reason="bank dispute")
        db.session.commit()
    status, instalments = _state(plan)
    assert status == PlanStatus.ACTIVE
    # the one due a month ago is missed again; today's and the later ones are due
    assert instalments == [(0, "missed"), (0, "due"), (0, "due"), (0, "due")]
    staff = login_as(app.test_client(), make_staff("collector"))
    html = staff.get(f"/staff/plans/{plan.id}").get_data(as_text=True)
    assert "Payments applied to instalments" not in html  # nothing of it stands any more
