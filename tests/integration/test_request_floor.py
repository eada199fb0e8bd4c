"""The request around every signed-in page (issue 15): the user's load built once, each
session's CSRF token signed once, each session cookie verified once, the rate limiter's hook
only where it has limits to apply; none of it changes who has access or what a form accepts."""
from datetime import timedelta

from flask import Blueprint, Flask, session
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from sqlalchemy import event, update

from portal.accounts.models import Cardholder
from portal.auth.session import end_all_sessions
from portal.core import security
from portal.extensions import db as _db
from portal.extensions import limiter, login_manager
from portal.staff.models import StaffUser
from tests.helpers import csrf_token, post_form, token_in


def _loaded(app, user):
    """What the user loader gives for `user`'s session id, and the statements it sent."""
    statements = []
    user_id, version = user.get_id(), user.session_version

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    _db.session.expunge_all()  # nothing of the user in the session: it must be read
    event.listen(_db.engine, "before_cursor_execute", note)
    try:
        with app.test_request_context():
            session["sv"] = version
            loaded = login_manager._user_callback(user_id)
    finally:
        event.remove(_db.engine, "before_cursor_execute", note)
    return loaded, statements


def test_the_loader_gives_the_cardholder_and_accounts_session_get_gives(app, make_account):
    first = make_account()
    holder = first.cardholder
    make_account(holder, card_last4="1111")
    holder_id = holder.id
    loaded, statements = _loaded(app, holder)
    assert len(statements) == 1  # the cardholder and the accounts in one statement
    columns = Cardholder.__table__.columns.keys()
    mine = {key: getattr(loaded, key) for key in columns}
    accounts = [account.id for account in loaded.accounts]
    _db.session.expunge_all()
    expected = _db.session.get(Cardholder, holder_id)
    assert mine == {key: getattr(expected, key) for key in columns}
    assert accounts == [account.id for account in expected.accounts] and len(accounts) == 2


def test_the_loader_gives_the_staff_member_with_every_role(app, make_staff):
    staff = make_staff("collector", "legal")
    staff_id = staff.id
    loaded, statements = _loaded(app, staff)
    assert len(statements) == 1
    assert loaded.id == staff_id and {r.value for r in loaded.roles} == {"collector", "legal"}


def test_an_unknown_or_malformed_id_loads_nobody(app, db):
    with app.test_request_context():
        for user_id in ("c:999999", "s:999999", "x:1", "c:", "c:1a", "nobody"):
            assert login_manager._user_callback(user_id) is None


def test_a_staff_member_switched_off_has_no_access_on_the_next_request(client, make_staff,
                                                                       login_as):
    staff = make_staff("collector")
    login_as(client, staff)
    assert client.get("/staff/collections").status_code == 200
    _db.session.execute(update(StaffUser).where(StaffUser.id == staff.id).values(active=False))
    _db.session.commit()
    response = client.get("/staff/collections")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_sessions_ended_elsewhere_end_on_the_next_request(client, make_cardholder, login_as):
    holder = make_cardholder()
    login_as(client, holder)
    assert client.get("/home").status_code == 200
    end_all_sessions(holder)
    _db.session.commit()
    assert client.get("/home").headers["Location"].startswith("/login")


def test_a_session_keeps_its_signed_csrf_token_and_forms_still_take_it(app, client,
                                                                      make_cardholder, login_as):
    login_as(client, make_cardholder())
    first = csrf_token(client, "/home")
    again = csrf_token(client, "/home")
    assert again == first
    with client.session_transaction() as sess:
        raw = sess["csrf_token"]
    assert security._SIGNED_CSRF[(app.secret_key, raw)] == first
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.post("/logout", data={"csrf_token": again}).status_code == 302
    assert client.get("/home").headers["Location"].startswith("/login")


def test_another_session_gets_its_own_token_which_this_one_refuses(app, make_cardholder,
                                                                  login_as):
    holder = make_cardholder()
    mine, theirs = login_as(app.test_client(), holder), login_as(app.test_client(), holder)
    my_token, their_token = csrf_token(mine, "/home"), csrf_token(theirs, "/home")
    assert my_token != their_token
    assert mine.post("/logout", data={"csrf_token": their_token}).status_code == 400


def test_a_token_with_a_time_limit_is_not_kept(app, client, make_cardholder, login_as,
                                               monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 3600)
    login_as(client, make_cardholder())
    token = token_in(client.get("/home").get_data(as_text=True))
    with client.session_transaction() as sess:
        raw = sess["csrf_token"]
    assert (app.secret_key, raw) not in security._SIGNED_CSRF
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


# ---- the session cookie, verified once per process for each value ------------------------

def _cookie(client) -> str:
    return client.get_cookie("session").value


def _opened(app, cookie: str | None, interface=None):
    """The session `interface` (the app's unless given) opens for a request carrying
    `cookie`, as a plain dict."""
    interface = interface or app.session_interface
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    with app.test_request_context("/", headers=headers):
        from flask import request

        return interface.open_session(app, request)


def test_a_kept_cookie_opens_the_session_flask_opens_and_a_copy_each_time(app, client,
                                                                         make_cardholder,
                                                                         login_as):
    login_as(client, make_cardholder())
    assert client.get("/home").status_code == 200
    cookie = _cookie(client)
    first = _opened(app, cookie)
    first["last_seen"] = 0  # what one request writes into its session ...
    first["_flashes"] = [("info", "x")]
    second = _opened(app, cookie)
    assert second is not first and "_flashes" not in second  # ... no other request sees
    assert dict(second) == dict(_opened(app, cookie, SecureCookieSessionInterface()))
    assert second["last_seen"] != 0 and not second.modified
    assert any(key[-1] == cookie for key in app.session_interface._kept)


def test_a_tampered_kept_cookie_is_refused(app, client, make_cardholder, login_as):
    login_as(client, make_cardholder())
    assert client.get("/home").status_code == 200  # kept now
    cookie = _cookie(client)
    payload, stamp, signature = cookie.rsplit(".", 2)
    # A middle character of the signature: the last one's lowest bits are padding, which
    # base64 decoding drops (such a "change" is the same signature, for Flask too).
    changed = "A" if signature[5] != "A" else "B"
    forgeries = (f"{payload}.{stamp}.{signature[:5]}{changed}{signature[6:]}",
                 f"{payload}x.{stamp}.{signature}", f"{payload}.{stamp}A.{signature}")
    for forged in forgeries:
        assert dict(_opened(app, forged)) == {}
        other = app.test_client()
        other.set_cookie("session", forged)
        assert other.get("/home").headers["Location"].startswith("/login")
    assert not any(key[-1] in forgeries for key in app.session_interface._kept)


def test_a_kept_cookie_expires_when_flask_would_refuse_it(app, client, make_cardholder,
                                                          login_as, clock):
    login_as(client, make_cardholder())
    assert client.get("/home").status_code == 200
    cookie = _cookie(client)
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    plain = SecureCookieSessionInterface()
    signed = clock.now()
    # a second on, past the limit, and before the signature's time (both refuse a negative age)
    for moment, valid in ((signed + timedelta(seconds=1), True),
                          (signed + timedelta(seconds=lifetime + 5), False),
                          (signed - timedelta(seconds=10), False)):
        clock.move_to(moment)  # stopped: both read the same whole second
        kept, fresh = dict(_opened(app, cookie)), dict(_opened(app, cookie, plain))
        assert kept == fresh
        assert bool(kept) is valid


def test_a_kept_cookie_of_a_signed_out_session_signs_nobody_in(app, client, make_cardholder,
                                                               login_as):
    login_as(client, make_cardholder())
    assert client.get("/home").status_code == 200
    assert client.get("/home").status_code == 200  # the second request is served kept
    cookie = _cookie(client)
    assert post_form(client, "/logout", {}, form_page="/home").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/home").headers["Location"].startswith("/login")


def test_kept_cookies_never_give_one_users_session_to_another(app, make_cardholder, login_as,
                                                              db):
    first, second = make_cardholder(), make_cardholder()
    mine, theirs = login_as(app.test_client(), first), login_as(app.test_client(), second)
    for _ in range(3):
        for client, holder in ((mine, first), (theirs, second)):
            assert client.get("/home").status_code == 200
            assert _opened(app, _cookie(client))["_user_id"] == holder.get_id()


def test_a_session_holding_a_list_is_verified_every_time(app, client, make_cardholder,
                                                         login_as):
    login_as(client, make_cardholder())
    with client.session_transaction() as sess:
        sess["_flashes"] = [("info", "Saved.")]
    cookie = _cookie(client)
    assert _opened(app, cookie)["_flashes"] == [("info", "Saved.")]
    assert not any(key[-1] == cookie for key in app.session_interface._kept)


# ---- the rate limiter's per-request hook ---------------------------------------------------

def test_the_limiter_hook_is_off_where_the_portal_declares_no_default_limits(app):
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])


def test_the_limiter_hook_stays_when_it_has_limits_to_apply():
    for settings, dropped in (({}, True), ({"default_limits": ["1 per day"]}, False),
                              ({"application_limits": ["1 per day"]}, False),
                              ({"meta_limits": ["1 per day"]}, False),
                              ({"in_memory_fallback": ["1 per day"]}, False)):
        bare = Flask(__name__)
        own = Limiter(key_func=lambda: "k", storage_uri="memory://", **settings)
        own.init_app(bare)
        assert security.drop_idle_limit_check(bare, own) is dropped
        assert (own._check_request_limit in bare.before_request_funcs[None]) is not dropped


def test_a_limit_on_a_blueprint_keeps_the_hook():
    bare, part = Flask(__name__), Blueprint("part", __name__)
    own = Limiter(key_func=lambda: "k", storage_uri="memory://")
    own.limit("1 per day")(part)
    part.add_url_rule("/x", "x", lambda: "ok")
    bare.register_blueprint(part)
    own.init_app(bare)
    assert security.drop_idle_limit_check(bare, own) is False
    client = bare.test_client()
    assert client.get("/x").status_code == 200 and client.get("/x").status_code == 429


def test_sign_in_is_limited_and_counted_as_before_without_the_hook(app, client, make_cardholder):
    """30 attempts a quarter of an hour from one address (LOGIN_RATE_LIMIT_IP): the limit is
    the decorated view's, with its headers; the 31st attempt is refused."""
    assert app.config["LOGIN_RATE_LIMIT_IP"] == "30 per 15 minutes"
    token = csrf_token(client, "/login")
    answers = [client.post("/login", data={"csrf_token": token, "identity": f"n{i}@x.example",
                                           "password": "wrong"}) for i in range(31)]
    assert [a.status_code for a in answers[:30]] == [200] * 30
    assert answers[29].headers["X-RateLimit-Limit"] == "30"
    assert answers[29].headers["X-RateLimit-Remaining"] == "0"
    assert answers[30].status_code == 429


# ---- the security headers ------------------------------------------------------------------

def test_security_headers_are_added_once_and_a_views_own_are_kept(app, db):
    from flask import make_response

    with app.test_request_context("/"):
        response = make_response("ok")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Cache-Control"] = "no-cache"
        response = security.set_security_headers(response)
    names = [key.lower() for key, _ in response.headers]
    assert len(names) == len(set(names))
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == security.BASE_POLICY
    assert response.headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"
