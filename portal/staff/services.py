"""Staff accounts: creation, password + TOTP sign-in. Services flush; callers commit."""
from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

import pyotp
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from portal.audit.services import record
from portal.auth import lockout
from portal.auth.passwords import password_problem, personal_inputs
from portal.auth.session import end_all_sessions
from portal.extensions import db
from portal.staff.models import Role, StaffRole, StaffUser

TOTP_ISSUER = "Repayment portal"


class StaffError(Exception):
    """A staff account cannot be created as asked; the message says why."""


class DuplicateEmail(StaffError):
    pass


class UnknownRole(StaffError):
    pass


class WeakPassword(StaffError):
    def __init__(self, problem):
        super().__init__(f"password refused: {problem.value.replace('_', ' ')}")
        self.problem = problem


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == normalise_email(email)))


def checked_roles(roles) -> list[Role]:
    """`roles` as Role members, sorted; UnknownRole for an unknown one or none at all."""
    known = {r.value for r in Role}
    unknown = [r for r in roles if str(r) not in known]
    if unknown:
        raise UnknownRole(f"unknown role {unknown[0]!r}; choose from {', '.join(r.value for r in Role)}")
    role_set = sorted({Role(str(r)) for r in roles})
    if not role_set:
        raise UnknownRole("at least one role is needed")
    return role_set


def checked_new_staff(email: str, roles) -> tuple[str, list[Role]]:
    """The normalised email and roles of a new staff member; StaffError when the email is not
    one or already in use (case-insensitive), UnknownRole as in checked_roles."""
    email = normalise_email(email)
    if not email or "@" not in email:
        raise StaffError(f"not an email address: {email!r}")
    role_set = checked_roles(roles)
    if find_by_email(email) is not None:
        raise DuplicateEmail(f"a staff user with email {email} already exists")
    return email, role_set


def create_staff(email: str, name: str, roles, password: str, *, actor=None) -> StaffUser:
    """Create an active staff user with a fresh TOTP secret and the given roles.

    Refuses (StaffError) an unknown role, an email already in use (case-insensitive), no
    roles, or a password the policy rejects. The creation is audited without secrets.
    """
    email, role_set = checked_new_staff(email, roles)
    problem = password_problem(password, personal_inputs(name=name, email=email))
    if problem:
        raise WeakPassword(problem)
    staff = StaffUser(email=email, name=name.strip(), password_hash=generate_password_hash(password),
                      totp_secret=pyotp.random_base32(), active=True, failed_logins=0,
                      role_rows=[StaffRole(role=r) for r in role_set])
    db.session.add(staff)
    db.session.flush()
    record("staff.created", subject=staff, actor=actor,
           after={"email": email, "name": staff.name, "roles": [r.value for r in role_set]})
    return staff


def provisioning_uri(staff: StaffUser) -> str:
    return pyotp.TOTP(staff.totp_secret).provisioning_uri(name=staff.email, issuer_name=TOTP_ISSUER)


class StaffLogin(enum.StrEnum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"


@dataclass
class StaffLoginResult:
    status: StaffLogin
    user: StaffUser | None = None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password-just-equal-timing")


def _fail(staff: StaffUser, step: str) -> StaffLoginResult:
    before = {"failed_logins": staff.failed_logins}
    locked_now = lockout.note_failure(staff)
    record("staff.login_failed", subject=staff, before=before,
           after={"step": step, "failed_logins": staff.failed_logins})
    if locked_now:
        record("staff.locked", subject=staff, after={"locked_until": staff.locked_until})
        return StaffLoginResult(StaffLogin.LOCKED)
    db.session.flush()
    return StaffLoginResult(StaffLogin.INVALID)


def check_password(email: str, password: str) -> StaffLoginResult:
    """First factor. OK means only "ask for the TOTP code next"; unknown, inactive and wrong
    password all give INVALID; a locked account gives LOCKED whatever the password."""
    staff = find_by_email(email)
    if staff is None:
        check_password_hash(_dummy_hash(), password)
        locked = lockout.phantom_failure("staff", normalise_email(email))
        record("staff.login_failed", after={"step": "password", "reason": "unknown"})
        return StaffLoginResult(StaffLogin.LOCKED if locked else StaffLogin.INVALID)
    right = check_password_hash(staff.password_hash, password)
    if lockout.is_locked(staff):
        record("staff.login_failed", subject=staff, after={"step": "password", "reason": "locked"})
        return StaffLoginResult(StaffLogin.LOCKED)
    if not staff.active:
        record("staff.login_failed", subject=staff, after={"step": "password", "reason": "inactive"})
        return StaffLoginResult(StaffLogin.INVALID)
    if not right:
        return _fail(staff, "password")
    return StaffLoginResult(StaffLogin.OK, staff)


def matching_step(secret: str, code: str) -> int | None:
    """The time step of `secret` whose code is `code` (one step either side), or None."""
    totp = pyotp.TOTP(secret)
    # The system clock, not the portal's: the authenticator app on the phone keeps real time,
    # even while an operator rehearses on a moved clock (portal.timeutil).
    now_step = totp.timecode(datetime.now(timezone.utc))
    for step in (now_step - 1, now_step, now_step + 1):  # valid_window=1
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def claim_totp_step(staff: StaffUser, step: int) -> bool:
    """Accept time step `step` for `staff` only if no later or equal one was accepted, in one
    UPDATE: of two requests carrying the same code, exactly one gets it."""
    claimed = db.session.execute(
        update(StaffUser).where(StaffUser.id == staff.id, or_(
            StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
        .values(totp_last_step=step),
        execution_options={"synchronize_session": False}).rowcount == 1
    if claimed:
        set_committed_value(staff, "totp_last_step", step)
    return claimed


def check_totp(staff_id: int, code: str) -> StaffLoginResult:
    """Second factor (RFC 6238, one step either side). A code from a time step already used
    (or older) is refused, so an overheard code cannot be replayed. Success resets the
    failure count and is audited as the sign-in."""
    staff = db.session.get(StaffUser, staff_id)
    if staff is None or not staff.active:
        return StaffLoginResult(StaffLogin.INVALID)
    if lockout.is_locked(staff):
        record("staff.login_failed", subject=staff, after={"step": "totp", "reason": "locked"})
        return StaffLoginResult(StaffLogin.LOCKED)
    step = matching_step(staff.totp_secret, (code or "").strip())
    if step is None:
        return _fail(staff, "totp")
    if not claim_totp_step(staff, step):
        return _fail(staff, "totp_replay")
    lockout.note_success(staff)
    record("staff.login", subject=staff, actor=("staff", staff.id),
           after={"roles": sorted(r.value for r in staff.roles)})
    db.session.flush()
    return StaffLoginResult(StaffLogin.OK, staff)


def list_staff() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).order_by(func.lower(StaffUser.email))))


def record_logout(staff: StaffUser) -> None:
    """Audit the sign-out and end every session of `staff`, on this device and any other."""
    end_all_sessions(staff)
    record("staff.logout", subject=staff)
