"""The webhook inbox's deliveries answered ahead of Flask (portal/payments/webhook_wsgi.py), on
SQLite and PostgreSQL: the same answers as the route (status, JSON, security headers), the
signature checked before anything is written, a duplicate answered "duplicate", 503 with
nothing kept when the event cannot be stored, no session; whatever it does not take (the
inbox off, a query string, an unexpected failure) goes to the route as before."""
from __future__ import annotations

from unittest import mock

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.extensions import db as _db
from portal.payments import wake, webhooks
from portal.payments.models import WebhookEvent
from portal.tasks.engine import WEBHOOK_DRAIN_TASK
from tests.integration.payment_helpers import (  # noqa: F401 - `account` is a fixture
    account, intent_event, kept_tasks, processing_payment, signed_event,
)

URL = "/webhooks/payments"


@pytest.fixture()
def inbox_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_INBOX", "1")
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", "http://localhost")


@pytest.fixture()
def payments(account):
    made = [processing_payment(account, 1_000 + n, f"fastpath_{n}") for n in range(3)]
    _db.session.commit()
    return made


@pytest.fixture()
def accepted(monkeypatch):
    """The calls the fast path made (`webhooks.accept`, still doing its work)."""
    spy = mock.Mock(wraps=webhooks.accept)
    monkeypatch.setattr(webhooks, "accept", spy)
    return spy


def _rows() -> list[tuple]:
    _db.session.expire_all()
    return _db.session.execute(select(WebhookEvent.event_id, WebhookEvent.state,
                                      WebhookEvent.type, WebhookEvent.object_ref,
                                      WebhookEvent.payload)
                               .order_by(WebhookEvent.event_id)).all()


def _answer(response) -> tuple:
    # "Vary: Cookie": the route's hooks read the session; the fast path reads none
    headers = [(k, v) for k, v in response.headers if k != "Vary"]
    return response.status, headers, response.data


def test_the_fast_path_answers_and_records_as_the_route(client, inbox_on, payments, accepted):
    fast_event, route_event = (intent_event(payments[n], event_id=f"evt_fp_{n}")
                               for n in (0, 1))
    fast, route = signed_event(fast_event), signed_event(route_event)
    answers = {}
    for via, (payload, headers), query in (("fast", fast, ""), ("route", route, "?via=route")):
        first = client.post(URL + query, data=payload, headers=headers)
        again = client.post(URL + query, data=payload, headers=headers)
        bad = client.post(URL + query, data=payload,
                          headers=dict(headers, **{"Stripe-Signature": "t=1,v1=00"}))
        answers[via] = [_answer(r) for r in (first, again, bad)]
        assert [r.get_json() for r in (first, again, bad)] == [
            {"received": True, "outcome": "accepted"},
            {"received": True, "outcome": "duplicate"}, {"error": "bad signature"}]
        assert [r.status_code for r in (first, again, bad)] == [200, 200, 400]
        assert not any(r.headers.get("Set-Cookie") for r in (first, again, bad))
    assert accepted.call_count == 3  # the three "fast" deliveries; the query string: the route
    assert answers["fast"] == answers["route"]
    assert _rows() == [(event["id"], "pending", "payment_intent.succeeded",
                        event["data"]["object"]["id"], event)
                       for event in (fast_event, route_event)]


def test_a_bad_signature_or_a_body_that_is_no_event_stores_nothing(client, inbox_on, payments,
                                                                    accepted):
    payload, headers = signed_event(intent_event(payments[0]), secret="whsec_wrong")
    assert client.post(URL, data=payload, headers=headers).status_code == 400
    assert client.post(URL, data=payload).status_code == 400  # no signature at all
    for body in ({"type": "payment_intent.succeeded"}, ["evt_1"]):  # signed, but no event
        payload, headers = signed_event(body)
        response = client.post(URL, data=payload, headers=headers)
        assert (response.status_code, response.get_json()) == (400, {"error": "bad signature"})
    assert accepted.call_count == 4
    assert _rows() == []


def test_a_store_that_fails_is_503_keeps_nothing_wakes_no_one_and_the_retry_is_accepted(
        app, client, payments, monkeypatch, accepted):
    sent = kept_tasks(app, monkeypatch, 1)  # a broker and beat's poll: the inbox is on
    monkeypatch.setitem(app.config, "WEBHOOK_INBOX", "auto")
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", "http://localhost")
    monkeypatch.setattr(wake, "CHECK_EVERY", 0)  # every recording asks
    payload, headers = signed_event(intent_event(payments[0]))
    real = webhooks._insert_pending

    def broken(conn, dialect, row):
        if dialect == "sqlite":  # written in the transaction, then the connection fails
            real(conn, dialect, row)
        # (PostgreSQL's one statement is its own transaction: when it fails, nothing is kept)
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(webhooks, "_insert_pending", broken)
    response = client.post(URL, data=payload, headers=headers)
    assert (response.status_code, response.get_json()) == (503, {"error": "unavailable"})
    assert accepted.call_count == 1
    assert not [name for name, _ in sent if name == WEBHOOK_DRAIN_TASK]
    assert _rows() == []
    monkeypatch.setattr(webhooks, "_insert_pending", real)
    response = client.post(URL, data=payload, headers=headers)
    assert response.get_json() == {"received": True, "outcome": "accepted"}
    assert [name for name, _ in sent if name == WEBHOOK_DRAIN_TASK] == [WEBHOOK_DRAIN_TASK]
    assert [row.event_id for row in _rows()] == ["evt_1"]


def test_an_unexpected_failure_is_handed_to_the_route_which_records_once(
        client, inbox_on, payments, monkeypatch):
    payload, headers = signed_event(intent_event(payments[0]))
    calls = []

    def fails_once(payload, signature):
        calls.append(signature)
        raise RuntimeError("a bug in the fast path")

    monkeypatch.setattr(webhooks, "accept", fails_once)
    response = client.post(URL, data=payload, headers=headers)
    assert len(calls) == 1
    assert response.get_json() == {"received": True, "outcome": "accepted"}
    assert [row.event_id for row in _rows()] == ["evt_1"]


def test_the_inbox_off_posts_in_the_route(client, app, payments, accepted, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_INBOX", "0")
    payload, headers = signed_event(intent_event(payments[0], "payment_intent.processing",
                                                 status="processing"))
    response = client.post(URL, data=payload, headers=headers)
    assert response.get_json()["outcome"] == "processed"
    assert accepted.call_count == 0
    assert [row.state for row in _rows()] == ["done"]


def test_a_body_over_the_limit_or_a_get_is_answered_by_flask(client, app, inbox_on, payments,
                                                             accepted, monkeypatch):
    payload, headers = signed_event(intent_event(payments[0]))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", len(payload) - 1)
    assert client.post(URL, data=payload, headers=headers).status_code == 413
    assert client.get(URL).status_code == 405
    assert accepted.call_count == 0
    assert _rows() == []
