"""Sign-in leaves an audit trail: every step recorded, no secrets, the chain verifiable."""
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.services import verify_chain
from portal.extensions import db as _db
from tests.conftest import CARDHOLDER_PASSWORD, STAFF_PASSWORD
from tests.helpers import last_code, post_form
from tests.helpers import tamper

NEW_PASSWORD = "plum tractor ocean violet"


def _actions():
    return [e.action for e in _db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def _enrol(client, account, outbox):
    post_form(client, "/enrol", {"account_number": account.account_number,
                                 "date_of_birth": account.cardholder.date_of_birth.isoformat(),
                                 "card_last4": account.card_last4})
    code = last_code(outbox)
    post_form(client, "/enrol/code", {"code": "000000" if code != "000000" else "111111"})
    post_form(client, "/enrol/code", {"code": code})
    post_form(client, "/enrol/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})


def test_enrolment_and_sign_in_steps_are_each_audited(client, make_account, outbox):
    account = make_account()
    post_form(client, "/enrol", {"account_number": account.account_number,
                                 "date_of_birth": "1970-01-01", "card_last4": "0000"})
    _enrol(client, account, outbox)
    post_form(client, "/logout", form_page="/home")
    post_form(client, "/login", {"identity": account.cardholder.phone, "password": "Wrong-1234567"})
    post_form(client, "/login", {"identity": account.cardholder.phone, "password": NEW_PASSWORD})
    assert _actions() == ["auth.enrol_failed", "auth.code_sent", "auth.code_failed",
                          "auth.code_verified", "auth.enrolled", "auth.logout",
                          "auth.login_failed", "auth.login"]


def test_lockout_and_password_reset_are_audited(client, make_cardholder, outbox):
    holder = make_cardholder(password=CARDHOLDER_PASSWORD)
    for _ in range(5):
        post_form(client, "/login", {"identity": holder.phone, "password": "Wrong-1234567"})
    post_form(client, "/forgot", {"identity": holder.phone})
    post_form(client, "/forgot/code", {"code": last_code(outbox)})
    post_form(client, "/forgot/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    actions = _actions()
    assert actions.count("auth.login_failed") == 5
    assert "auth.locked" in actions and "auth.reset_requested" in actions
    assert actions[-1] == "auth.password_reset"


def test_audit_never_holds_passwords_codes_or_hashes(client, make_account, make_staff, outbox,
                                                     totp_now):
    account = make_account()
    _enrol(client, account, outbox)
    code = last_code(outbox)
    staff = make_staff("admin")
    other = client.application.test_client()
    post_form(other, "/staff/login", {"email": staff.email, "password": STAFF_PASSWORD})
    totp = totp_now(staff)
    post_form(other, "/staff/login/code", {"code": totp})
    _db.session.refresh(account.cardholder)
    blobs = " ".join(str(e.before) + str(e.after)
                     for e in _db.session.scalars(select(AuditEvent)))
    for secret in (NEW_PASSWORD, STAFF_PASSWORD, code, totp, account.cardholder.password_hash,
                   staff.password_hash, staff.totp_secret):
        assert secret not in blobs
    assert "staff.login" in _actions()


def test_chain_verifies_after_a_flow_and_a_tampered_row_is_named(client, runner, make_account,
                                                                 outbox):
    account = make_account()
    _enrol(client, account, outbox)
    checked, broken = verify_chain()
    assert broken is None and checked == len(_actions())
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "chain intact" in result.output

    target = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.enrolled")).one()
    tamper("UPDATE audit_event SET actor_id = '999' WHERE id = :id", id=target.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit event {target.id}" in result.output
