"""Health check, security headers, language choice and migrations."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db as _db
from tests.helpers import csrf_token


def test_healthz_says_db_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"db": "ok"}


def test_healthz_is_503_when_database_does_not_answer(app, db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(_db.session, "execute", broken)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"db": "unavailable"}


def test_pages_carry_strict_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_language_choice_is_remembered_in_a_cookie(client):
    page = client.get("/login")
    assert b'lang="en"' in page.data
    client.post("/locale", data={"locale": "zh_Hans", "next": "/login",
                                 "csrf_token": csrf_token(client, "/login")})
    page = client.get("/login")
    assert b'lang="zh-Hans"' in page.data
    assert "登录".encode() in page.data


def test_accept_language_picks_chinese_for_a_new_visitor(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert b'lang="zh-Hans"' in page.data


def test_language_switch_refuses_offsite_redirect(client):
    response = client.post("/locale", data={"locale": "en", "next": "https://evil.example/",
                                            "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/locale", data={"locale": "zh_Hans"})
    assert response.status_code == 400


def test_migrations_from_empty_equal_the_models(app, db):
    with _db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), _db.metadata)
    assert diff == []


def test_a_request_body_above_the_upload_limit_is_refused_unread(client, app):
    too_big = app.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post("/login", data=b"x" * too_big,
                           headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 413


def test_links_in_job_sent_messages_use_the_configured_base_url(app):
    from portal.core.urls import external_url

    app.config["PORTAL_BASE_URL"] = "https://pay.example.com/"
    try:
        with app.app_context():
            assert external_url("payments.status", payment_id=7) == "https://pay.example.com/payments/7"
    finally:
        app.config["PORTAL_BASE_URL"] = ""


def _locale_events():
    from sqlalchemy import select

    from portal.audit.models import AuditEvent

    return list(_db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "cardholder.locale_changed")))


def _choose(client, locale, page="/home"):
    token = csrf_token(client, page, follow_redirects=True)
    return client.post("/locale", data={"locale": locale, "next": page, "csrf_token": token})


def test_a_cardholder_changing_language_is_audited_with_before_and_after(client, login_as,
                                                                        make_cardholder):
    from portal.audit.services import verify_chain

    holder = make_cardholder(locale="en")
    login_as(client, holder)
    _choose(client, "zh_Hans")
    _db.session.refresh(holder)
    assert holder.locale == "zh_Hans"
    [event] = _locale_events()
    assert (event.actor_type, event.actor_id) == ("cardholder", str(holder.id))
    assert (event.subject_type, event.subject_id) == ("cardholder", str(holder.id))
    assert event.before == {"locale": "en"} and event.after == {"locale": "zh_Hans"}
    assert verify_chain()[1] is None


def test_choosing_the_language_already_on_file_records_nothing(client, login_as,
                                                               make_cardholder):
    holder = make_cardholder(locale="zh_Hans")
    login_as(client, holder)
    _choose(client, "zh_Hans")
    _choose(client, "fr")  # not offered: ignored
    assert _locale_events() == []


def test_visitors_and_staff_changing_language_change_no_profile_and_record_nothing(
        client, login_as, make_staff):
    _choose(client, "zh_Hans", page="/login")
    login_as(client, make_staff("admin"))
    _choose(client, "en", page="/staff/")
    assert _locale_events() == []
