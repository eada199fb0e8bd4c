"""Double-clicking "Pay now": both submissions answer without an error and the money posts
once, on every database (issue 12, finding 6: SQLite answered 500 for the second click)."""
import threading

from tests.integration.payment_helpers import (  # noqa: F401 (fixtures)
    account, form_tokens, only_payment, payment_entries, start_payment, started,
)


def _at_once(app, calls):
    """Run each call in its own thread (and app context), released together; their results
    in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i):
        with app.app_context():
            barrier.wait()
            results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _second_tab(app, login_as, account):
    return login_as(app.test_client(), account.cardholder)


def test_pay_now_clicked_twice_on_the_card_form_posts_once_without_an_error(
        app, client, login_as, account, started):
    payment_id, amount, account_id = started.id, started.amount, account.id
    clients = [client, _second_tab(app, login_as, account)]
    tokens = [form_tokens(c.get(f"/payments/{payment_id}/checkout").get_data(as_text=True))
              for c in clients]
    data = [{"csrf_token": t["csrf_token"], "card_number": "4242424242424242",
             "expiry": "12/30", "cvc": "123"} for t in tokens]
    responses = _at_once(app, [lambda c=c, d=d: c.post(f"/payments/{payment_id}/sandbox/card", data=d)
                          for c, d in zip(clients, data)])
    assert [r.status_code for r in responses] == [302, 302]
    assert payment_entries(account_id) == -amount


def test_the_pay_form_submitted_twice_at_once_opens_one_payment(app, client, login_as, account):
    account_id = account.id
    clients = [client, _second_tab(app, login_as, account)]
    page = client.get(f"/accounts/{account_id}/pay").get_data(as_text=True)
    nonce = form_tokens(page)["nonce"]
    tokens = [form_tokens(c.get(f"/accounts/{account_id}/pay").get_data(as_text=True))
              for c in clients]
    data = [{"csrf_token": t["csrf_token"], "nonce": nonce, "currency": t["currency"],
             "choice": "overdue", "other_amount": ""} for t in tokens]
    responses = _at_once(app, [lambda c=c, d=d: c.post(f"/accounts/{account_id}/pay", data=d)
                          for c, d in zip(clients, data)])
    assert [r.status_code for r in responses] == [302, 302]
    assert only_payment(account_id)  # exactly one row
