"""The request around every signed-in page (issue 15): the user's load built once, each
session's CSRF token signed once, and neither changes who has access or what a form accepts."""
from flask import session
from sqlalchemy import event, update

from portal.accounts.models import Cardholder
from portal.auth.session import end_all_sessions
from portal.core import security
from portal.extensions import db as _db
from portal.extensions import login_manager
from portal.staff.models import StaffUser
from tests.helpers import csrf_token, token_in


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
