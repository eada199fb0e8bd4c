"""`flask staff create`: password from stdin, roles checked, otpauth URI printed."""
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from werkzeug.security import check_password_hash

from portal.audit.models import AuditEvent
from portal.extensions import db as _db
from portal.staff.models import Role, StaffUser

PASSWORD = "harbour-Lantern-2031"


def _create(runner, *args, password=PASSWORD):
    return runner.invoke(args=["staff", "create", *args], input=password + "\n")


def test_create_reads_the_password_from_stdin_and_prints_an_otpauth_uri(runner):
    result = _create(runner, "Mia.Wong@Issuer.example", "--role", "collector",
                     "--role", "legal", "--name", "Mia Wong")
    assert result.exit_code == 0, result.output
    uri = next(line for line in result.output.splitlines() if line.startswith("otpauth://"))
    parts = urlsplit(uri)
    assert parts.netloc == "totp"
    assert "mia.wong@issuer.example" in unquote(parts.path)
    assert parse_qs(parts.query)["issuer"] == ["Repayment portal"]
    staff = _db.session.scalars(select(StaffUser)).one()
    assert staff.email == "mia.wong@issuer.example" and staff.name == "Mia Wong"
    assert staff.roles == {Role.COLLECTOR, Role.LEGAL}
    assert check_password_hash(staff.password_hash, PASSWORD)
    assert parse_qs(parts.query)["secret"] == [staff.totp_secret]


def test_creation_is_audited_without_secrets(runner):
    _create(runner, "a@issuer.example", "--role", "admin", "--name", "Ann Admin")
    event = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.created")).one()
    assert event.after["roles"] == ["admin"]
    blob = str(event.before) + str(event.after)
    staff = _db.session.scalars(select(StaffUser)).one()
    assert PASSWORD not in blob and staff.totp_secret not in blob and "scrypt" not in blob


def test_duplicate_email_is_refused(runner):
    _create(runner, "a@issuer.example", "--role", "admin", "--name", "Ann Admin")
    result = _create(runner, "A@issuer.example", "--role", "risk", "--name", "Other")
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert len(_db.session.scalars(select(StaffUser)).all()) == 1


def test_unknown_role_is_refused(runner):
    result = _create(runner, "a@issuer.example", "--role", "janitor", "--name", "Ann")
    assert result.exit_code == 1
    assert "unknown role 'janitor'" in result.output and "collections_manager" in result.output
    assert _db.session.scalars(select(StaffUser)).all() == []


def test_weak_password_is_refused(runner):
    result = _create(runner, "a@issuer.example", "--role", "risk", "--name", "Ann",
                     password="password123456")
    assert result.exit_code == 1 and "password refused" in result.output
    result = _create(runner, "b@issuer.example", "--role", "risk", "--name", "Bo",
                     password="short")
    assert result.exit_code == 1 and "too short" in result.output


def test_a_role_is_required(runner):
    result = _create(runner, "a@issuer.example", "--name", "Ann")
    assert result.exit_code != 0 and "--role" in result.output


def test_created_staff_can_sign_in_with_the_printed_uri(runner, app):
    import pyotp

    from tests.helpers import post_form

    result = _create(runner, "c@issuer.example", "--role", "risk", "--name", "Cy")
    uri = next(line for line in result.output.splitlines() if line.startswith("otpauth://"))
    client = app.test_client()
    post_form(client, "/staff/login", {"email": "c@issuer.example", "password": PASSWORD})
    code = pyotp.parse_uri(uri).now()
    response = post_form(client, "/staff/login/code", {"code": code})
    assert response.headers["Location"] == "/staff/"
    assert client.get("/staff/risk").status_code == 200
