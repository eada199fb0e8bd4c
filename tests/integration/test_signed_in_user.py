"""The signed-in user is read afresh on every request (issue 15): a staff member is a light
object of the request's own (`portal.staff.signed_in`), one Core statement, never kept
between requests, so every change to what they may do counts on the very next request,
through the real routes."""
import pyotp
import pytest
from flask import session
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db as _db
from portal.extensions import login_manager
from portal.staff.models import Role, StaffUser
from portal.staff.signed_in import SignedInStaff
from tests.conftest import STAFF_PASSWORD
from tests.dispute_helpers import join, queue, raise_dispute
from tests.helpers import post_form


def _signed_in_staff(app, staff):
    """A client signed in as `staff` through the password and authenticator forms."""
    client = app.test_client()
    post_form(client, "/staff/login", {"email": staff.email, "password": STAFF_PASSWORD})
    post_form(client, "/staff/login/code", {"code": pyotp.TOTP(staff.totp_secret).now()})
    return client


def _to_sign_in(response) -> bool:
    return response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_the_loader_gives_each_request_a_light_staff_member_of_its_own(app, make_staff):
    staff = make_staff("collector", "legal")
    with app.test_request_context():
        session["sv"] = staff.session_version
        first = login_manager._user_callback(staff.get_id())
        second = login_manager._user_callback(staff.get_id())
    assert isinstance(first, SignedInStaff) and first is not second
    assert first.roles == {Role.COLLECTOR, Role.LEGAL} and first.roles is not second.roles
    assert first.has_role(Role.LEGAL) and not first.has_role(Role.ADMIN)
    assert (first.id, first.email, first.name, first.locale, first.is_active, first.get_id()) == (
        staff.id, staff.email, staff.name, staff.locale, True, f"s:{staff.id}")
    with pytest.raises(AttributeError):
        first.totp_secret  # noqa: B018  (nothing else is read, and nothing loads it lazily)
    with pytest.raises(AttributeError):
        first.anything_else = 1  # slots: no request can hang state on it for another


@pytest.fixture()
def admin_and_member(app, make_staff, login_as):
    """An administrator's client, a collector, and the collector's own client (signed in
    through the forms, seeing the collections workspace); `admin.act(what, data)` posts to
    the member's administration page."""
    admin = login_as(app.test_client(), make_staff("admin"))
    member = make_staff("collector")
    theirs = _signed_in_staff(app, member)
    assert theirs.get("/staff/collections").status_code == 200

    def act(what, data=None):
        post_form(admin, f"/staff/admin/{member.id}/{what}", data or {},
                  form_page=f"/staff/admin/{member.id}")
    admin.act = act
    return admin, member, theirs


def test_a_role_taken_away_or_given_counts_on_the_members_next_request(admin_and_member):
    admin, _member, theirs = admin_and_member
    assert theirs.get("/staff/risk").status_code == 403
    admin.act("roles", {"roles": ["risk"]})
    assert theirs.get("/staff/collections").status_code == 403
    assert theirs.get("/staff/risk").status_code == 200
    admin.act("roles", {"roles": ["collector"]})
    assert theirs.get("/staff/collections").status_code == 200
    assert theirs.get("/staff/risk").status_code == 403


def test_a_member_switched_off_is_out_on_the_next_request_and_stays_out_when_on_again(
        app, admin_and_member, login_as):
    admin, member, theirs = admin_and_member
    admin.act("disable")
    assert _to_sign_in(theirs.get("/staff/collections"))
    admin.act("enable")
    assert _to_sign_in(theirs.get("/staff/collections"))  # that session ended for good
    _db.session.expire_all()
    again = login_as(app.test_client(), _db.session.get(StaffUser, member.id))  # signs in anew
    assert again.get("/staff/collections").status_code == 200


def test_an_authenticator_reset_ends_the_members_sessions_on_the_next_request(
        admin_and_member):
    admin, _member, theirs = admin_and_member
    admin.act("reset-authenticator")
    assert _to_sign_in(theirs.get("/staff/collections"))


def test_signing_out_on_one_device_signs_the_member_out_on_the_others(app, make_staff,
                                                                      login_as):
    member = make_staff("collector")
    desk, laptop = _signed_in_staff(app, member), login_as(app.test_client(), member)
    assert laptop.get("/staff/collections").status_code == 200
    post_form(desk, "/staff/logout", {}, form_page="/staff/collections")
    assert _to_sign_in(laptop.get("/staff/collections"))
    _db.session.expire_all()
    assert _db.session.get(StaffUser, member.id).session_version == 1
    event = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.logout")
                                ).one()
    assert (event.actor_type, event.actor_id) == ("staff", str(member.id))
    assert (event.subject_type, event.subject_id) == ("staff_user", str(member.id))


def test_a_queue_membership_taken_away_or_given_counts_on_the_agents_next_request(
        app, make_account, make_staff, login_as):
    manager = login_as(app.test_client(), make_staff("collections_manager"))
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    dispute = raise_dispute(make_account())
    dispute.assignee_id = None  # seen through the queue only, not as its assignee
    _db.session.commit()
    assert dispute.queue.code == "billing"
    theirs = _signed_in_staff(app, agent)
    assert theirs.get(f"/staff/disputes/{dispute.id}").status_code == 200
    billing = queue("billing").id
    for action, seen in (("remove", 404), ("add", 200)):
        response = post_form(manager, "/staff/disputes/setup/queues",
                             {"queue": billing, "email": agent.email, "action": action})
        assert response.status_code == 302
        assert theirs.get(f"/staff/disputes/{dispute.id}").status_code == seen, action


def test_a_staff_action_names_the_signed_in_member_as_its_actor(app, make_account, make_staff,
                                                               login_as):
    agent = make_staff("customer_service")
    join("billing", agent, "en")
    dispute = raise_dispute(make_account())
    theirs = login_as(app.test_client(), agent)
    response = post_form(theirs, f"/staff/disputes/{dispute.id}/acknowledge", {},
                         form_page=f"/staff/disputes/{dispute.id}")
    assert response.status_code == 302
    event = _db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.like("dispute.%"), AuditEvent.actor_type == "staff")).all()
    assert event and {e.actor_id for e in event} == {str(agent.id)}


def test_a_cardholder_without_accounts_loads_with_none(app, make_cardholder):
    holder = make_cardholder()
    holder_id, user_id, version = holder.id, holder.get_id(), holder.session_version
    _db.session.expunge_all()
    with app.test_request_context():
        session["sv"] = version
        loaded = login_manager._user_callback(user_id)
        assert loaded.id == holder_id and loaded.accounts == []


def test_an_account_given_or_taken_away_counts_on_the_cardholders_next_request(
        client, make_account, make_cardholder, login_as):
    first = make_account(card_last4="1111")
    holder, other = first.cardholder, make_cardholder()
    login_as(client, holder)
    second = make_account(holder, card_last4="2222")
    assert client.get(f"/accounts/{second.id}/timeline").status_code == 200
    second.cardholder_id = other.id  # the issuer's feed moved the card to someone else
    _db.session.commit()
    assert client.get(f"/accounts/{second.id}/timeline").status_code == 404
    assert client.get(f"/accounts/{first.id}/timeline").status_code == 200
