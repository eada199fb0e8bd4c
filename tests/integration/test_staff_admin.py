"""Administrators manage staff in the portal: create (a one-time set-up link by email), change
roles, switch off (sessions end at once) and on, reset the authenticator; every change audited;
the last administrator cannot be removed; bad input changes nothing."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.staff.models import Role, StaffSetupLink, StaffUser
from tests.conftest import STAFF_PASSWORD
from tests.helpers import csrf_token, post_form

NEW_PASSWORD = "lantern-orchard-gravel-41"


def _audit(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def _link_in(outbox, to):
    mails = [m for m in outbox() if m["to"] == to]
    assert mails, f"nothing emailed to {to}"
    match = re.search(r"http://\S+/staff/setup/(\S+)", mails[-1]["body"])
    assert match, mails[-1]["body"]
    return "/staff/setup/" + match.group(1), mails[-1]


def _create(client, **fields):
    data = {"name": "Nadia Newcomer", "email": "nadia@issuer.example", "locale": "en",
            "roles": ["collector"]}
    data.update(fields)
    return post_form(client, "/staff/admin/new", data)


def _secret_on(page_html):
    match = re.search(r'id="setup-key"><code>([A-Z2-7 ]+)</code>', page_html)
    assert match, "no key on the set-up page"
    return match.group(1).replace(" ", "")


@pytest.fixture()
def admin_client(client, make_staff, login_as):
    admin = make_staff("admin", name="Ada Admin")
    login_as(client, admin)
    client.admin = admin
    return client


def test_admin_creates_a_member_who_sets_up_through_the_emailed_link(
        app, admin_client, outbox):
    response = _create(admin_client, roles=["collector", "legal"])
    assert response.status_code == 302
    member = db.session.scalar(select(StaffUser).where(StaffUser.email == "nadia@issuer.example"))
    assert member.roles == {Role.COLLECTOR, Role.LEGAL} and member.setup_pending
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "we emailed nadia@issuer.example a link" in page
    created = _audit("staff.created")[-1]
    assert created.actor_id == str(admin_client.admin.id)

    path, mail = _link_in(outbox, "nadia@issuer.example")
    assert "48 hours" in mail["body"]
    visitor = app.test_client()
    setup_page = visitor.get(path).get_data(as_text=True)
    secret = _secret_on(setup_page)
    assert "otpauth://totp/" in setup_page
    done = visitor.post(path, data={"csrf_token": csrf_token(visitor, path),
                                    "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                    "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and done.headers["Location"] == "/staff/login"
    db.session.refresh(member)
    assert not member.setup_pending and member.totp_secret == secret
    assert _audit("staff.setup_completed")
    # used once: the link is dead now
    assert visitor.get(path).status_code == 404
    # and the member signs in with the new password and the app's code
    login = post_form(visitor, "/staff/login", {"email": "nadia@issuer.example",
                                               "password": NEW_PASSWORD})
    assert login.headers["Location"] == "/staff/login/code"


def test_a_member_waiting_for_set_up_cannot_sign_in(app, admin_client, outbox):
    _create(admin_client)
    visitor = app.test_client()
    for password in ("", "!unset", STAFF_PASSWORD):
        response = post_form(visitor, "/staff/login", {"email": "nadia@issuer.example",
                                                      "password": password})
        assert response.status_code == 200  # the form again, never the code step


def test_setup_link_expires(app, admin_client, outbox, clock):
    _create(admin_client)
    path, _mail = _link_in(outbox, "nadia@issuer.example")
    clock.shift(timedelta(hours=48, minutes=1))
    page = app.test_client().get(path)
    assert page.status_code == 404
    assert "Ask your administrator to send you a new link." in page.get_data(as_text=True)


def test_setup_refuses_a_wrong_code_or_weak_password_and_changes_nothing(app, admin_client,
                                                                        outbox):
    _create(admin_client)
    path, _mail = _link_in(outbox, "nadia@issuer.example")
    visitor = app.test_client()
    secret = _secret_on(visitor.get(path).get_data(as_text=True))
    wrong = visitor.post(path, data={"csrf_token": csrf_token(visitor, path),
                                     "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                     "code": "000000" if pyotp.TOTP(secret).now() != "000000"
                                     else "111111"})
    assert "That code is not the one your app shows now." in wrong.get_data(as_text=True)
    weak = visitor.post(path, data={"csrf_token": csrf_token(visitor, path),
                                    "password": "Nadia Newcomer 1", "confirm": "Nadia Newcomer 1",
                                    "code": pyotp.TOTP(secret).now()})
    assert "Do not use your name" in weak.get_data(as_text=True)
    member = db.session.scalar(select(StaffUser).where(StaffUser.email == "nadia@issuer.example"))
    db.session.refresh(member)
    assert member.setup_pending
    assert not _audit("staff.setup_completed")


@pytest.mark.parametrize("fields, message", [
    ({"email": "not-an-email"}, "Enter an email address such as name@example.com."),
    ({"name": ""}, "full name."),
    ({"roles": []}, "Choose at least one role."),
    ({"roles": ["superuser"]}, "is not a valid choice"),
])
def test_bad_input_gets_a_message_and_creates_nobody(admin_client, outbox, fields, message):
    before = db.session.scalar(select(db.func.count()).select_from(StaffUser))
    response = _create(admin_client, **fields)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(StaffUser)) == before
    assert outbox() == []


def test_an_email_already_in_use_is_refused(admin_client, make_staff, outbox):
    make_staff("risk", email="taken@issuer.example")
    response = _create(admin_client, email="Taken@Issuer.example")
    assert "A staff member with this email already exists." in response.get_data(as_text=True)
    assert outbox() == []


def test_roles_change_and_are_audited(admin_client, make_staff):
    member = make_staff("collector")
    response = post_form(admin_client, f"/staff/admin/{member.id}/roles",
                         {"roles": ["risk", "legal"]}, form_page=f"/staff/admin/{member.id}")
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.roles == {Role.RISK, Role.LEGAL}
    event = _audit("staff.roles_changed")[-1]
    assert event.before == {"roles": ["collector"]} and event.after == {"roles": ["legal", "risk"]}


def test_disabling_ends_live_sessions_at_once(app, admin_client, make_staff, login_as):
    member = make_staff("collector")
    their_client = login_as(app.test_client(), member)
    assert their_client.get("/staff/collections").status_code == 200
    response = post_form(admin_client, f"/staff/admin/{member.id}/disable", {},
                         form_page=f"/staff/admin/{member.id}")
    assert response.status_code == 302
    gone = their_client.get("/staff/collections")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/staff/login")
    assert _audit("staff.disabled")[-1].after == {"active": False}
    post_form(admin_client, f"/staff/admin/{member.id}/enable", {},
              form_page=f"/staff/admin/{member.id}")
    db.session.refresh(member)
    assert member.active and _audit("staff.enabled")


def test_reset_authenticator_sends_a_new_link_and_stops_the_old_app(
        app, admin_client, make_staff, login_as, outbox):
    member = make_staff("collector", email="ravi@issuer.example")
    old_secret = member.totp_secret
    their_client = login_as(app.test_client(), member)
    post_form(admin_client, f"/staff/admin/{member.id}/reset-authenticator", {},
              form_page=f"/staff/admin/{member.id}")
    db.session.refresh(member)
    assert member.totp_secret != old_secret
    assert their_client.get("/staff/collections").status_code == 302
    path, mail = _link_in(outbox, "ravi@issuer.example")
    assert "reset your authenticator" in mail["body"]
    assert app.test_client().get(path).status_code == 200
    assert _audit("staff.authenticator_reset")
    # a second reset replaces the first link
    post_form(admin_client, f"/staff/admin/{member.id}/reset-authenticator", {},
              form_page=f"/staff/admin/{member.id}")
    assert app.test_client().get(path).status_code == 404
    assert db.session.scalar(select(db.func.count()).select_from(StaffSetupLink).where(
        StaffSetupLink.used_at.is_(None))) == 1


def test_the_last_admin_cannot_switch_themselves_off_or_drop_the_role(admin_client):
    me = admin_client.admin
    refused = post_form(admin_client, f"/staff/admin/{me.id}/disable", {},
                        form_page=f"/staff/admin/{me.id}")
    assert "without an administrator" in refused.get_data(as_text=True)
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', refused.get_data(as_text=True))
    assert [b for b in boxes if "checked" in b] == [  # the roles as they are, none "required"
        '<input checked id="roles-5" name="roles" type="checkbox" value="admin">']
    refused = post_form(admin_client, f"/staff/admin/{me.id}/roles", {"roles": ["risk"]},
                        form_page=f"/staff/admin/{me.id}")
    assert "without an administrator" in refused.get_data(as_text=True)
    db.session.refresh(me)
    assert me.active and me.roles == {Role.ADMIN}
    assert not _audit("staff.disabled") and not _audit("staff.roles_changed")


def test_an_admin_still_waiting_for_set_up_does_not_count(admin_client, outbox):
    _create(admin_client, email="second@issuer.example", roles=["admin"])
    me = admin_client.admin
    refused = post_form(admin_client, f"/staff/admin/{me.id}/roles", {"roles": ["risk"]},
                        form_page=f"/staff/admin/{me.id}")
    assert "without an administrator" in refused.get_data(as_text=True)


def test_with_a_second_admin_one_may_step_down(admin_client, make_staff):
    other = make_staff("admin")
    me = admin_client.admin
    response = post_form(admin_client, f"/staff/admin/{me.id}/roles",
                         {"roles": ["admin", "risk"]}, form_page=f"/staff/admin/{me.id}")
    assert response.status_code == 302
    response = post_form(admin_client, f"/staff/admin/{other.id}/disable", {},
                         form_page=f"/staff/admin/{other.id}")
    assert response.status_code == 302
    # now `me` is the last one again
    refused = post_form(admin_client, f"/staff/admin/{me.id}/disable", {},
                        form_page=f"/staff/admin/{me.id}")
    assert "without an administrator" in refused.get_data(as_text=True)


def test_changes_without_a_csrf_token_are_refused(admin_client, make_staff):
    member = make_staff("collector")
    assert admin_client.post(f"/staff/admin/{member.id}/disable").status_code == 400
    db.session.refresh(member)
    assert member.active


def test_pages_read_in_chinese(admin_client, make_staff):
    admin_client.set_cookie("portal_locale", "zh_Hans")
    member = make_staff("collector")
    page = admin_client.get(f"/staff/admin/{member.id}").get_data(as_text=True)
    assert "重置身份验证器" in page
    assert "添加员工" in admin_client.get("/staff/admin").get_data(as_text=True)


def test_reset_for_someone_still_waiting_resends_the_invitation(app, admin_client, outbox):
    _create(admin_client)
    first, _mail = _link_in(outbox, "nadia@issuer.example")
    member = db.session.scalar(select(StaffUser).where(StaffUser.email == "nadia@issuer.example"))
    page = admin_client.get(f"/staff/admin/{member.id}").get_data(as_text=True)
    assert "this sends them a new invitation link" in page
    post_form(admin_client, f"/staff/admin/{member.id}/reset-authenticator", {},
              form_page=f"/staff/admin/{member.id}")
    second, mail = _link_in(outbox, "nadia@issuer.example")
    assert second != first and "created a staff account for you" in mail["body"]
    assert app.test_client().get(first).status_code == 404
    assert app.test_client().get(second).status_code == 200


def test_the_member_page_lists_the_changes_and_who_made_them(admin_client, make_staff):
    member = make_staff("collector")
    post_form(admin_client, f"/staff/admin/{member.id}/roles", {"roles": ["collector", "legal"]},
              form_page=f"/staff/admin/{member.id}")
    post_form(admin_client, f"/staff/admin/{member.id}/disable", {},
              form_page=f"/staff/admin/{member.id}")
    page = admin_client.get(f"/staff/admin/{member.id}").get_data(as_text=True)
    history = page.split("Changes to this account", 1)[1]
    assert history.index("Switched off") < history.index("Roles changed: Collector, Legal")
    assert history.count("Ada Admin") == 2
