"""Issue 16, one-tap links: a reminder carries a single-purpose, expiring, one-time, revocable
link; it asks the card's last four digits or the date of birth before showing anything, voids
itself after three wrong answers (of either kind), never signs anyone in, and what is paid or agreed afterwards names the message."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.session import end_all_sessions
from portal.balances.services import today_for
from portal.collections.models import PromiseToPay, SentReminder
from portal.extensions import db as _db
from portal.links import services as links
from portal.links.models import PAY, PAY_INSTALMENT, PLAN_OFFERS, MessageOutcome, OneTapLink
from portal.plans.models import Plan
from tests.helpers import csrf_token, token_in
from tests.integration.payment_helpers import only_payment, start_payment
from tests.integration.plan_helpers import agree
from tests.integration.test_reminders import FIRST_DUE, _reminders, _run, noon

PASSWORD = "Correct-Horse-42"
GONE = "This link does not work any more"


@pytest.fixture()
def holder_account(make_cardholder, make_account):
    holder = make_cardholder(password=PASSWORD, full_name="Marguerite Okonkwo-Lindqvist")
    account = make_account(holder, account_number="6233445566778899", card_last4="5821",
                           principal=500_000)
    _db.session.commit()
    return holder, account


def _issue(app, account, purpose=PAY_INSTALMENT, **kw) -> str:
    with app.test_request_context():
        issued = links.issue(account, purpose, **kw)
        links.attach(issued.link, _message(account))
        _db.session.commit()
    return "/l/" + issued.url.rsplit("/l/", 1)[1]


def _message(account):
    from portal.outbox.models import MessageKind
    from portal.outbox.services import queue_email

    return queue_email(account.cardholder.email, "Reminder", "Body", purpose="test",
                       kind=MessageKind.TRANSACTIONAL, account_id=account.id)


def _answer(client, path, digits=None, born=None):
    page = client.get(path)
    data = {"csrf_token": token_in(page.get_data(as_text=True))}
    if digits is not None:
        data["card_last4"] = digits
    if born is not None:
        data["date_of_birth"] = born
    return client.post(path, data=data)


def _sign_in(client, holder, next_path):
    page = client.get(f"/login?next={next_path}").get_data(as_text=True)
    return client.post("/login", data={"csrf_token": token_in(page), "identity": holder.email,
                                       "password": PASSWORD, "next": next_path})


def _secrets(holder, account):
    return (account.account_number, holder.full_name, "5821", "5,000.00", "833.33", "CN¥")


def test_a_link_asks_the_last_four_digits_and_shows_nothing_of_the_account(
        app, client, holder_account):
    holder, account = holder_account
    path = _issue(app, account, amount=83_333, due_on=FIRST_DUE)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Last four digits of your card" in html
    assert [s for s in _secrets(holder, account) if s in html] == []
    assert 'name="card_last4"' in html and 'name="date_of_birth"' in html
    assert holder.date_of_birth.isoformat() not in html
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_every_link_that_does_not_work_gets_the_same_page(app, client, clock, runner,
                                                          holder_account, make_cardholder,
                                                          make_account):
    holder, account = holder_account
    expired = _issue(app, account, PLAN_OFFERS)
    clock.shift(timedelta(days=7, minutes=1))
    used = _issue(app, account, amount=1, due_on=FIRST_DUE)
    assert _answer(app.test_client(), used, "5821").status_code == 302
    revoked = _issue(app, account, PLAN_OFFERS)
    _issue(app, account, PLAN_OFFERS)  # a newer link for the same purpose revokes it
    voided = _issue(app, account, "pay")
    for _ in range(3):
        _answer(app.test_client(), voided, "0000")
    other = make_account(make_cardholder(), card_last4="1111")
    _db.session.commit()
    signed_out = _issue(app, other, "pay")
    end_all_sessions(other.cardholder)  # a sign-out, a password reset or set
    _db.session.commit()
    by_cli = _issue(app, other, PAY_INSTALMENT)
    result = runner.invoke(args=["links", "revoke", "--cardholder", str(other.cardholder_id)])
    assert result.exit_code == 0 and "one-tap links revoked: 2" in result.output
    wrong = "/l/" + "A" * 32
    answers = {path: client.get(path) for path in (expired, used, revoked, voided, signed_out,
                                                  by_cli, wrong, "/l/continue")}
    # the same page but for its own address (the language picker comes back to it) and the
    # CSRF token (signed with the time)
    bodies = {re.sub(r'name="csrf_token" value="[^"]*"', "", r.get_data(as_text=True))
              .replace(path, "PATH") for path, r in answers.items()}
    assert {r.status_code for r in answers.values()} == {404}
    assert len(bodies) == 1 and GONE in bodies.pop()
    # and a right answer on any of them changes nothing
    for path in (expired, revoked, voided):
        assert _answer(client, path, "5821").status_code == 404


def test_the_cli_revokes_every_open_link_of_a_cardholder(app, client, runner, holder_account):
    holder, account = holder_account
    first, second = _issue(app, account, PLAN_OFFERS), _issue(app, account, "pay")
    result = runner.invoke(args=["links", "revoke", "--cardholder", str(holder.id)])
    assert result.exit_code == 0 and "one-tap links revoked: 2" in result.output
    assert client.get(first).status_code == client.get(second).status_code == 404


def test_a_right_answer_shows_the_message_but_signs_nobody_in(app, client, holder_account):
    holder, account = holder_account
    path = _issue(app, account, amount=83_333, due_on=FIRST_DUE)
    answered = _answer(client, path, "58 21")
    assert answered.status_code == 302 and answered.headers["Location"].endswith("/l/continue")
    landing = client.get("/l/continue").get_data(as_text=True)
    assert "CN¥833.33" in landing and "December 5, 2026" in landing
    assert account.account_number not in landing and holder.full_name not in landing
    target = f"/accounts/{account.id}/pay?choice=instalment"
    assert "Sign in to pay" in landing and "/login?next=" in landing
    # the light check is no sign-in: every account page still asks for one
    for page in (target, f"/accounts/{account.id}", "/home"):
        response = client.get(page)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get(path).status_code == 404  # one time only
    link = _db.session.scalar(select(OneTapLink))
    assert link.used_at is not None


def test_three_wrong_answers_void_the_link(app, client, holder_account):
    _holder, account = holder_account
    path = _issue(app, account, "pay", amount=10_000, due_on=FIRST_DUE)
    for _ in range(2):
        wrong = _answer(client, path, "1234")
        assert wrong.status_code == 200 and "These digits do not match" in wrong.get_data(as_text=True)
    third = _answer(client, path, "1234")
    assert third.status_code == 302 and third.headers["Location"].endswith(path)
    assert client.get(path).status_code == 404
    assert _answer(client, path, "5821").status_code == 404  # even the right answer now
    link = _db.session.scalar(select(OneTapLink))
    assert link.failed_checks == 3 and link.voided_at is not None and link.used_at is None


def test_an_answer_that_is_not_four_digits_is_refused_and_not_counted(app, client,
                                                                      holder_account):
    _holder, account = holder_account
    path = _issue(app, account, PLAN_OFFERS)
    for digits in ("", "12", "١٢٣٤", "12345", "abcd", "\x00\x00\x00\x00", "9" * 10_000):
        assert _answer(client, path, digits).status_code in (400, 422)
    assert _db.session.scalar(select(OneTapLink.failed_checks)) == 0


@pytest.mark.parametrize("token", ["x", "A" * 5000, "%00", "..%2F..%2Fetc", "🙂" * 40,
                                   "' OR 1=1 --"])
def test_garbage_tokens_get_the_same_page_and_no_server_error(client, token):
    response = client.get(f"/l/{token}")
    assert response.status_code == 404
    posted = client.post(f"/l/{token}", data={"card_last4": "1234"})
    assert posted.status_code in (400, 404)


@pytest.fixture()
def reminded(clock, runner, outbox, holder_account):
    """A due-soon reminder for the holder's plan, sent by the reminders job: the link in it."""
    holder, account = holder_account
    agree(account)
    _db.session.commit()
    clock.move_to(noon(FIRST_DUE - timedelta(days=3)))
    _run(runner, clock.now())
    [mail] = _reminders(outbox)
    path = re.search(r"(/l/[\w-]+)", mail["body"]).group(1)
    message_id = _db.session.scalar(select(SentReminder.message_id))
    return holder, account, path, message_id


def test_a_payment_after_the_reminders_link_and_sign_in_names_the_message(
        app, client, reminded, make_staff, login_as):
    holder, account, path, message_id = reminded
    assert _answer(client, path, "5821").status_code == 302
    landing = client.get("/l/continue").get_data(as_text=True)
    target = f"/accounts/{account.id}/pay?choice=instalment"
    assert "/login?next=" in landing
    signed_in = _sign_in(client, holder, target)
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith(target)
    _data, started = start_payment(client, account, "instalment")
    assert started.status_code == 302
    payment = only_payment(account.id)
    outcome = _db.session.scalar(select(MessageOutcome))
    assert (outcome.kind, outcome.object_id, outcome.message_id) == ("payment", payment.id,
                                                                     message_id)
    assert outcome.link_id == _db.session.scalar(select(OneTapLink.id))
    # collectors see it on the account
    manager = login_as(app.test_client(), make_staff("collections_manager"))
    html = manager.get(f"/staff/collections/accounts/{account.id}").get_data(as_text=True)
    assert "After a link in our messages" in html and f"Payment {payment.id}" in html


def test_a_plan_agreed_after_following_a_link_names_the_message(app, client, holder_account):
    holder, account = holder_account
    path = _issue(app, account, PLAN_OFFERS)
    assert _answer(client, path, "5821").status_code == 302
    assert "Sign in to see the plans" in client.get("/l/continue").get_data(as_text=True)
    offers = f"/accounts/{account.id}/plans/offers"
    assert _sign_in(client, holder, offers).headers["Location"].endswith(offers)
    first = (FIRST_DUE + timedelta(days=3)).isoformat()
    confirm = (f"/accounts/{account.id}/plans/confirm?kind=instalment&count=6&frequency=monthly"
               f"&first_date={first}&down_payment=0&source=offer")
    html = client.get(confirm).get_data(as_text=True)
    data = dict(re.findall(r'name="(kind|count|frequency|first_date|down_payment|source|'
                           r'statement|terms_hash)"[^>]*value="([^"]*)"', html))
    data.update(csrf_token=token_in(html), consent="y")
    assert client.post(f"/accounts/{account.id}/plans/confirm", data=data).status_code == 302
    plan = _db.session.scalar(select(Plan))
    outcome = _db.session.scalar(select(MessageOutcome))
    link = _db.session.scalar(select(OneTapLink))
    assert (outcome.kind, outcome.object_id, outcome.link_id, outcome.message_id) == (
        "plan", plan.id, link.id, link.message_id)
    assert link.message_id is not None


def test_another_cardholder_signing_in_after_the_check_gets_no_attribution(
        app, client, holder_account, make_cardholder, make_account, login_as):
    _holder, account = holder_account
    path = _issue(app, account, "pay")
    assert _answer(client, path, "5821").status_code == 302
    stranger = make_cardholder(password=PASSWORD)
    theirs = make_account(stranger)
    _db.session.commit()
    _sign_in(client, stranger, "/home")
    assert start_payment(client, theirs, "other", "100.00")[1].status_code == 302
    assert _db.session.scalar(select(MessageOutcome)) is None
    landing = client.get("/l/continue").get_data(as_text=True)
    assert "Go to payment" not in landing  # the stranger is not sent to A's page directly


def test_a_link_in_a_message_that_never_goes_is_revoked(app, holder_account):
    _holder, account = holder_account
    with app.test_request_context():
        issued = links.issue(account, "pay")
        links.attach(issued.link, None)
        _db.session.commit()
        assert links.usable(issued.url.rsplit("/l/", 1)[1]) is None


def test_answers_are_limited_per_address_like_sign_in(app, client):
    limit = int(app.config["LOGIN_RATE_LIMIT_IP"].split()[0])
    token = csrf_token(client, "/", follow_redirects=True)
    answers = [client.post("/l/" + "B" * 32, data={"csrf_token": token, "card_last4": "1234"})
               .status_code for _ in range(limit + 1)]
    assert set(answers[:limit]) == {404} and answers[-1] == 429


def test_the_grant_ends_after_half_an_hour_and_then_names_nothing(app, client, clock,
                                                                  holder_account):
    holder, account = holder_account
    path = _issue(app, account, "pay", amount=10_000, due_on=FIRST_DUE)
    assert _answer(client, path, "5821").status_code == 302
    clock.shift(timedelta(minutes=31))
    assert client.get("/l/continue").status_code == 404
    _sign_in(client, holder, "/home")
    assert start_payment(client, account, "other", "100.00")[1].status_code == 302
    assert _db.session.scalar(select(MessageOutcome)) is None


def test_a_promise_made_after_following_a_link_names_the_message(app, client, make_cardholder,
                                                                 make_account):
    holder = make_cardholder(password=PASSWORD)
    account = make_account(holder, card_last4="5821", principal=500_000, minimum_due=50_000,
                           oldest_unpaid_due_date=FIRST_DUE - timedelta(days=40))
    path = _issue(app, account, PAY)
    assert _answer(client, path, "5821").status_code == 302
    promise_page = f"/accounts/{account.id}/promise"
    assert _sign_in(client, holder, promise_page).status_code == 302
    html = client.get(promise_page).get_data(as_text=True)
    answer = client.post(promise_page, data={
        "csrf_token": token_in(html), "amount": "500.00",
        "promised_on": (today_for(account) + timedelta(days=3)).isoformat()})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    promise = _db.session.scalar(select(PromiseToPay))
    outcome = _db.session.scalar(select(MessageOutcome))
    link = _db.session.scalar(select(OneTapLink))
    assert (outcome.kind, outcome.object_id, outcome.link_id) == ("promise", promise.id, link.id)


def test_the_date_of_birth_passes_the_check_as_the_card_digits_do(app, client, holder_account):
    holder, account = holder_account
    path = _issue(app, account, amount=83_333, due_on=FIRST_DUE)
    answered = _answer(client, path, born=holder.date_of_birth.isoformat())
    assert answered.status_code == 302 and answered.headers["Location"].endswith("/l/continue")
    landing = client.get("/l/continue").get_data(as_text=True)
    assert "CN¥833.33" in landing and holder.full_name not in landing
    response = client.get(f"/accounts/{account.id}")  # still no sign-in
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get(path).status_code == 404
    link = _db.session.scalar(select(OneTapLink))
    assert link.used_at is not None and link.failed_checks == 0


def test_wrong_dates_of_birth_count_with_wrong_digits_and_void_the_link(app, client,
                                                                       holder_account):
    holder, account = holder_account
    path = _issue(app, account, "pay", amount=10_000, due_on=FIRST_DUE)
    wrong = _answer(client, path, born="1985-04-13")
    assert wrong.status_code == 200 and "This date of birth does not match" in \
        wrong.get_data(as_text=True)
    assert _answer(client, path, "1234").status_code == 200
    # both given: both must be right (a right date does not excuse wrong digits)
    third = _answer(client, path, "1234", holder.date_of_birth.isoformat())
    assert third.status_code == 302 and third.headers["Location"].endswith(path)
    assert client.get(path).status_code == 404
    assert _answer(client, path, born=holder.date_of_birth.isoformat()).status_code == 404
    link = _db.session.scalar(select(OneTapLink))
    assert link.failed_checks == 3 and link.voided_at is not None and link.used_at is None


@pytest.mark.parametrize("born", ["2001-02-30", "1985-13-01", "0000-00-00", "1899-12-31",
                                  "2999-01-01", "99999-01-01", "12/04/1985", "1985-04-12T00:00",
                                  "١٩٨٥-٠٤-١٢", "1985-04-12\x00", "' OR 1=1 --", "9" * 10_000])
def test_a_hostile_date_of_birth_is_refused_with_a_message_and_not_counted(
        app, client, holder_account, born):
    _holder, account = holder_account
    path = _issue(app, account, PLAN_OFFERS)
    answered = _answer(client, path, born=born)
    assert answered.status_code == 422
    html = answered.get_data(as_text=True)
    assert "Enter your date of birth as a real date" in html or "cannot be used here" in html
    assert _db.session.scalar(select(OneTapLink.failed_checks)) == 0


def test_an_empty_answer_asks_for_either_and_is_not_counted(app, client, holder_account):
    _holder, account = holder_account
    path = _issue(app, account, PLAN_OFFERS)
    answered = _answer(client, path, "", "")
    assert answered.status_code == 422
    assert "or your date of birth" in answered.get_data(as_text=True)
    assert _db.session.scalar(select(OneTapLink.failed_checks)) == 0
