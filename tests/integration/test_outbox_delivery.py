"""Email over SMTP to a real local server (aiosmtpd), text messages to a local HTTP peer
standing in for the SMS provider: what arrives, and what a refusal or an outage does (retried
with back-off; a permanent refusal, or too many failures, fails the message for good, shown to
admin at /staff/jobs)."""
from __future__ import annotations

import pytest

from portal.contact import clock as portal_clock
from portal.extensions import db as _db
from portal.outbox import services
from portal.outbox.models import OutboxMessage
from tests.delivery_peers import HttpSmsPeer, SmtpPeer, free_port

FROM = "Card services <cards@issuer.example>"


@pytest.fixture()
def smtp(app, db, monkeypatch):
    peer = SmtpPeer().start()
    for key, value in {"OUTBOX_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1",
                       "SMTP_PORT": peer.port, "SMTP_FROM": FROM, "SMTP_TIMEOUT": 5}.items():
        monkeypatch.setitem(app.config, key, value)
    yield peer
    peer.stop()


@pytest.fixture()
def sms_peer(app, db, monkeypatch):
    peer = HttpSmsPeer().start()
    for key, value in {"SMS_TRANSPORT": "http", "SMS_HTTP_URL": peer.url,
                       "SMS_HTTP_TOKEN": "tok-for-this-test", "SMS_HTTP_TIMEOUT": 5}.items():
        monkeypatch.setitem(app.config, key, value)
    yield peer
    peer.stop()


def _queue_email(app, to, subject="Your payment", body="We received your payment."):
    with app.test_request_context():
        message_id = services.queue_email(to, subject, body, purpose="receipt").id
        _db.session.commit()  # delivered after the commit
    _db.session.expire_all()
    return _db.session.get(OutboxMessage, message_id)


def _queue_sms(app, to="+12125550101", body="Your code is 123456"):
    with app.test_request_context():
        message_id = services.queue_sms(to, body, purpose="otp").id
        _db.session.commit()
    _db.session.expire_all()
    return _db.session.get(OutboxMessage, message_id)


def _reload(message):
    _db.session.expire_all()
    return _db.session.get(OutboxMessage, message.id)


def test_an_email_arrives_at_the_smtp_server_as_text_in_the_cardholders_language(
        app, smtp, outbox):
    message = _queue_email(app, "li.wei@example.com", "您的还款已收到",
                           "李先生，您好：\n我们已收到您的还款 ¥1,234.00。")
    assert message.delivered_at is not None and message.last_error is None
    [(sender, recipients, mail)] = smtp.received
    assert sender == "cards@issuer.example" and recipients == ["li.wei@example.com"]
    assert mail["From"] == FROM and mail["To"] == "li.wei@example.com"
    assert mail["Subject"] == "您的还款已收到"
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    assert "我们已收到您的还款 ¥1,234.00。" in mail.get_content()
    assert outbox() == []  # nothing written to files


def test_a_permanent_smtp_refusal_fails_the_message_for_good_at_once(
        app, smtp, client, login_as, make_staff):
    message = _queue_email(app, "refuse.me@example.com")
    assert message.delivered_at is None and message.failed_at is not None
    assert message.attempts == 1 and "SMTP 550" in message.last_error
    later = portal_clock.now() + services.retry_delay(1) * 100
    assert services.deliver_due(later) == 0 and _reload(message).attempts == 1  # never again
    assert smtp.received == []
    login_as(client, make_staff("admin"))
    page = client.get("/staff/jobs").get_data(as_text=True)
    assert "Messages not delivered" in page and "refuse.me@example.com" in page
    assert "SMTP 550: 5.1.1 no such mailbox" in page
    assert client.get("/health/jobs").json["failed_messages_24h"] == 1


def test_a_temporary_refusal_is_retried_with_back_off_then_fails_for_good(
        app, smtp, monkeypatch, clock):
    clock.move_to(clock.now())  # stands still: the retry times are exact
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    message = _queue_email(app, "later@example.com")
    assert message.failed_at is None and "SMTP 451" in message.last_error
    first_retry = portal_clock.now() + services.retry_delay(1)
    assert portal_clock.utc(message.not_before) == first_retry
    assert services.deliver_due(first_retry - services.retry_delay(1) / 2) == 0  # not yet
    assert _reload(message).attempts == 1
    assert services.deliver_due(first_retry) == 0
    message = _reload(message)
    assert message.attempts == 2 and message.failed_at is None
    second_retry = first_retry + services.retry_delay(2)
    assert portal_clock.utc(message.not_before) == second_retry
    assert services.deliver_due(second_retry) == 0
    message = _reload(message)
    assert message.attempts == 3 and message.failed_at is not None  # the last attempt
    assert "SMTP 451" in message.last_error and smtp.received == []


def test_a_server_that_is_down_is_retried_and_the_message_goes_when_it_is_back(
        app, db, monkeypatch):
    port = free_port()  # nothing listens here yet: connection refused
    for key, value in {"OUTBOX_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1",
                       "SMTP_PORT": port, "SMTP_TIMEOUT": 5}.items():
        monkeypatch.setitem(app.config, key, value)
    message = _queue_email(app, "h@example.com")
    assert message.failed_at is None and message.delivered_at is None
    assert "SMTP unreachable" in message.last_error
    peer = SmtpPeer(port).start()
    try:
        assert services.deliver_due(portal_clock.now() + services.retry_delay(1)) == 1
    finally:
        peer.stop()
    assert [r for _, r, _ in peer.received] == [["h@example.com"]]
    assert _reload(message).delivered_at is not None


# AUTH without TLS: fine for a test server on loopback
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.filterwarnings("ignore:auth_required == True but auth_require_tls == False")
def test_smtp_auth_signs_in_and_a_refused_sign_in_is_retried_not_failed(app, db, monkeypatch):
    peer = SmtpPeer(login=("portal", "right-password")).start()
    try:
        for key, value in {"OUTBOX_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1",
                           "SMTP_PORT": peer.port, "SMTP_USERNAME": "portal",
                           "SMTP_PASSWORD": "wrong-password", "SMTP_TIMEOUT": 5}.items():
            monkeypatch.setitem(app.config, key, value)
        message = _queue_email(app, "h@example.com")
        assert message.failed_at is None and message.delivered_at is None
        assert "SMTP 535 (sign-in refused" in message.last_error
        monkeypatch.setitem(app.config, "SMTP_PASSWORD", "right-password")  # operator fixes it
        assert services.deliver_due(portal_clock.now() + services.retry_delay(1)) == 1
        assert [r for _, r, _ in peer.received] == [["h@example.com"]]
    finally:
        peer.stop()


def test_a_text_message_is_posted_to_the_sms_provider_with_the_bearer_token(
        app, sms_peer, outbox):
    message = _queue_sms(app, body="您的验证码是 123456")
    assert message.delivered_at is not None
    [(headers, body)] = sms_peer.requests
    assert headers["Authorization"] == "Bearer tok-for-this-test"
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Idempotency-Key"] == f"outbox-{message.id}"
    assert body["id"] == message.id and body["to"] == "+12125550101"
    assert body["body"] == "您的验证码是 123456"
    assert outbox() == []


def test_a_provider_4xx_fails_the_text_for_good_and_a_5xx_is_retried(app, sms_peer):
    sms_peer.statuses[:] = [422]
    refused = _queue_sms(app, to="+10000000000")
    assert refused.failed_at is not None and "SMS provider 422" in refused.last_error
    sms_peer.statuses[:] = [503]
    retried = _queue_sms(app)
    assert retried.failed_at is None and retried.delivered_at is None
    assert "SMS provider 503" in retried.last_error
    assert services.deliver_due(portal_clock.now() + services.retry_delay(1)) == 1
    assert _reload(retried).delivered_at is not None
    assert _reload(refused).delivered_at is None and len(sms_peer.requests) == 3


def test_an_unreachable_sms_provider_is_retried(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_TRANSPORT", "http")
    monkeypatch.setitem(app.config, "SMS_HTTP_URL", f"http://127.0.0.1:{free_port()}/sms")
    message = _queue_sms(app)
    assert message.failed_at is None and "SMS provider unreachable" in message.last_error
