"""A cardholder signs in on web process A and pays through the real pages over HTTP; the
provider (localstripe) takes the card and sends its signed webhook to web process B."""
from __future__ import annotations

import re
import requests

from tests.integration.jobs_helpers import wait_for
from tests.integration.payment_helpers import form_tokens
from tests.prodcheck.db import scalar

# The session cookie is Secure: the check's client stands behind the TLS a load balancer
# would end (it says so in X-Forwarded-Proto), so it sends Secure cookies over loopback http.
BEHIND_TLS = {"X-Forwarded-Proto": "https"}


class Browser(requests.Session):
    """A session that sends its Secure cookies over the loopback http (see BEHIND_TLS)."""

    def __init__(self):
        super().__init__()
        self.headers.update(BEHIND_TLS)

    def prepare_request(self, request):
        for cookie in self.cookies:  # requests copies the jar here, so its policy is lost
            cookie.secure = False
        return super().prepare_request(request)


def post(session: requests.Session, url: str, **kwargs) -> requests.Response:
    """A form posted from the portal's own page: over TLS a browser sends the page as Referer,
    and Flask-WTF checks it on https (WTF_CSRF_SSL_STRICT)."""
    referer = "https://" + url.split("://", 1)[1]
    return session.post(url, headers={"Referer": referer}, **kwargs)


def _ok(response: requests.Response, what: str) -> requests.Response:
    if response.status_code >= 400:
        raise AssertionError(f"{what}: HTTP {response.status_code}\n{response.text[:2000]}")
    return response


def sign_in(session: requests.Session, base: str, identity: str, password: str) -> None:
    page = _ok(session.get(f"{base}/login"), "the sign-in page").text
    response = _ok(post(session, f"{base}/login", data={
        "csrf_token": form_tokens(page)["csrf_token"], "identity": identity,
        "password": password, "next": ""}, allow_redirects=False), "signing in")
    if response.status_code != 302:
        raise AssertionError(f"signing in did not redirect (HTTP {response.status_code}): "
                             f"{response.text[:1000]}")


def start_payment(session: requests.Session, base: str, account_id: int) -> tuple[int, str]:
    """Choose the overdue amount and open the checkout: (payment id, the checkout page)."""
    page = _ok(session.get(f"{base}/accounts/{account_id}/pay"), "the pay page").text
    tokens = form_tokens(page)
    response = _ok(post(session, f"{base}/accounts/{account_id}/pay", data={
        "csrf_token": tokens["csrf_token"], "nonce": tokens["nonce"],
        "currency": tokens["currency"], "choice": "overdue", "other_amount": ""},
        allow_redirects=False), "choosing the amount")
    found = re.search(r"/payments/(\d+)/checkout", response.headers.get("Location", ""))
    if not found:
        raise AssertionError(f"choosing the amount led to {response.headers.get('Location')!r}")
    payment_id = int(found.group(1))
    checkout = _ok(session.get(f"{base}/payments/{payment_id}/checkout"), "the checkout page")
    return payment_id, checkout.text


def recheck(session: requests.Session, base: str, page: str) -> dict:
    """What static/js/payment.js asks just before confirming."""
    url = re.search(r'data-recheck="([^"]+)"', page).group(1)
    response = _ok(post(session, base + url, data={"csrf_token": form_tokens(page)["csrf_token"]}),
                   "the re-check before confirming")
    return response.json()


def pay_at_the_provider(stripe_base: str, page: str) -> str:
    """Stand in for Stripe.js: a card for the intent on the page, then confirm it.

    localstripe takes these calls with the secret key only; Stripe.js makes them with the
    publishable key and the client secret. The intent is the one the portal created."""
    secret = re.search(r'data-secret="([^"]+)"', page).group(1)
    intent = secret.split("_secret_")[0]
    auth = ("sk_test_prodcheck", "")
    card = requests.post(f"{stripe_base}/v1/payment_methods", auth=auth, timeout=10, data={
        "type": "card", "card[number]": "4242424242424242", "card[exp_month]": 12,
        "card[exp_year]": 2030, "card[cvc]": "123"})
    card.raise_for_status()
    requests.post(f"{stripe_base}/v1/payment_intents/{intent}", auth=auth, timeout=10,
                  data={"payment_method": card.json()["id"]}).raise_for_status()
    confirmed = requests.post(f"{stripe_base}/v1/payment_intents/{intent}/confirm", auth=auth,
                              timeout=10)
    confirmed.raise_for_status()
    if confirmed.json()["status"] != "succeeded":
        raise AssertionError(f"the provider did not take the card: {confirmed.json()}")
    return intent


def wait_until_posted(payment_id: int, timeout: float = 60) -> str:
    return wait_for(lambda: scalar("SELECT status FROM payment WHERE id = %s AND status = "
                                   "'succeeded'", payment_id), timeout,
                    f"payment {payment_id} to be posted by the webhook")


def webhook_lines(process) -> list[str]:
    return [line for line in process.lines if "POST /webhooks/payments" in line]
