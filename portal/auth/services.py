"""Cardholder enrolment, sign-in and password reset. Services flush; routes commit."""
from __future__ import annotations

import enum
import hmac
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import phonenumbers
from flask_babel import force_locale, gettext as _
from sqlalchemy import and_, exists, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from portal.accounts import phones
from portal.accounts.models import Account, Cardholder
from portal.audit.services import record
from portal.auth import lockout
from portal.auth.codes import (CodeCheck, CodeResult, check_code, identity_token, issue_code,
                               take_code_allowance, verified_code)
from portal.auth.models import CodePurpose, OneTimeCode
from portal.auth.passwords import personal_inputs
from portal.auth.session import end_all_sessions
from portal.extensions import db
from portal.outbox.services import queue_email, queue_sms
from portal.timeutil import utcnow

__all__ = ["CodeCheck", "CodeResult", "check_code", "verified_code"]


class LoginStatus(enum.StrEnum):
    OK = "ok"
    INVALID = "invalid"  # unknown identity or wrong password: the same to the user
    LOCKED = "locked"


@dataclass
class LoginResult:
    status: LoginStatus
    user: Cardholder | None = None


class EnrolStatus(enum.StrEnum):
    SENT = "sent"
    NO_MATCH = "no_match"  # also: already enrolled (the page says the same)
    THROTTLED = "throttled"  # matched, but too many codes went out recently


@dataclass
class EnrolStart:
    status: EnrolStatus
    code: OneTimeCode | None = None
    holder: Cardholder | None = None


class CodeNotVerified(Exception):
    """The password step was reached without a fresh, verified, unused code."""


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password-just-equal-timing")


def normalise_identity(raw: str | None) -> str:
    """An email lower-cased, a phone number with its country code as E.164, a number
    written nationally as its digits (its region is the account's: see `_find_enrolled`);
    anything else stripped as typed."""
    value = (raw or "").strip()
    if "@" in value:
        return value.lower()
    compact = phones.compact(value)
    if phones.is_national(compact):
        return compact
    try:
        number = phonenumbers.parse(compact, None)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return compact


def identity_kind(identity: str) -> str:
    return "email" if "@" in identity else "phone"


def password_inputs(holder: Cardholder) -> list[str]:
    """The person's own details a password must not contain, the phone number both in full
    and as they write it at home."""
    words = personal_inputs(name=holder.full_name, phone=holder.phone, email=holder.email,
                            date_of_birth=holder.date_of_birth)
    national = phones.national_digits(holder.phone)
    return words + [national] if len(national) >= 3 and national not in words else words


def _phone_in_region(identity: str):
    """Conditions matching a nationally written number to the cardholders it means: one
    reading per region, each matching only cardholders with an account of that region's
    profiles (`13800138001` is a Chinese mobile for a `cn` account, nothing for a `us` one)."""
    conditions = []
    for region, profiles in phones.profiles_by_region().items():
        e164 = phones.parse_in_region(identity, region)
        if e164:
            conditions.append(and_(Cardholder.phone == e164, exists().where(
                Account.cardholder_id == Cardholder.id, Account.policy_profile.in_(profiles))))
    return conditions


def _find_enrolled(identity: str) -> list[Cardholder]:
    """Enrolled cardholders with this normalised identity (email, E.164, or a national
    number read with the region of their accounts)."""
    if not identity:
        return []
    conditions = [Cardholder.phone == identity, func.lower(Cardholder.email) == identity]
    if phones.is_national(identity):
        conditions = _phone_in_region(identity)
        if not conditions:
            return []
    return list(db.session.scalars(select(Cardholder).where(
        Cardholder.password_hash.is_not(None), or_(*conditions),
    ).order_by(Cardholder.id)))


def authenticate(raw_identity: str, password: str) -> LoginResult:
    """Check a cardholder's identity and password, counting failures and locking after the
    configured number. Unknown identity and wrong password give the same INVALID result; a
    locked account gives LOCKED whether or not the password was right."""
    identity = normalise_identity(raw_identity)
    kind = identity_kind(identity)
    holders = _find_enrolled(identity)
    if not holders:
        check_password_hash(_dummy_hash(), password)  # same work as for a real account
        locked = lockout.phantom_failure("cardholder", identity)
        record("auth.login_failed", after={"identity_kind": kind, "reason": "unknown"})
        return LoginResult(LoginStatus.LOCKED if locked else LoginStatus.INVALID)
    holder = next((h for h in holders if check_password_hash(h.password_hash, password)), None)
    target = holder or holders[0]
    if lockout.is_locked(target):
        record("auth.login_failed", subject=target,
               after={"identity_kind": kind, "reason": "locked"})
        return LoginResult(LoginStatus.LOCKED)
    if holder is None:
        before = {"failed_logins": target.failed_logins}
        locked_now = lockout.note_failure(target)
        record("auth.login_failed", subject=target, before=before,
               after={"identity_kind": kind, "reason": "bad_password",
                      "failed_logins": target.failed_logins})
        if locked_now:
            record("auth.locked", subject=target, after={"locked_until": target.locked_until})
            return LoginResult(LoginStatus.LOCKED)
        db.session.flush()
        return LoginResult(LoginStatus.INVALID)
    lockout.note_success(holder)
    record("auth.login", subject=holder, actor=("cardholder", holder.id),
           after={"identity_kind": kind})
    return LoginResult(LoginStatus.OK, holder)


def _match_account(account_number: str, date_of_birth: date, card_last4: str) -> Account | None:
    number = re.sub(r"[\s-]", "", account_number or "")
    account = db.session.scalar(select(Account).where(Account.account_number == number))
    if account is None:
        return None
    holder = account.cardholder
    same_card = hmac.compare_digest((card_last4 or "").strip(), account.card_last4)
    return account if same_card and holder.date_of_birth == date_of_birth else None


def start_enrolment(account_number: str, date_of_birth: date, card_last4: str) -> EnrolStart:
    """Match all three details to one not-yet-enrolled cardholder and send them a code.
    Any mismatch, or an already enrolled cardholder, gives NO_MATCH and sends nothing.
    THROTTLED once the typed account number asked for MAX_CODES_PER_WINDOW codes, counted
    whether or not the details match, so that answer never tells that they are right."""
    typed = "".join((account_number or "").split())
    if not take_code_allowance(CodePurpose.ENROL, identity_token(f"enrol:{typed}")):
        record("auth.enrol_failed", after={"reason": "throttled"})
        return EnrolStart(EnrolStatus.THROTTLED)
    account = _match_account(account_number, date_of_birth, card_last4)
    if account is None or account.cardholder.is_enrolled:
        reason = "no_match" if account is None else "already_enrolled"
        holder = account.cardholder if account else None
        record("auth.enrol_failed", subject=holder, after={"reason": reason})
        return EnrolStart(EnrolStatus.NO_MATCH)
    holder = account.cardholder
    code = issue_code(holder, CodePurpose.ENROL)
    if code is None:
        return EnrolStart(EnrolStatus.THROTTLED, holder=holder)
    return EnrolStart(EnrolStatus.SENT, code, holder)


def resend_code(code_id: int | None, purpose: CodePurpose) -> OneTimeCode | None:
    """Send a new code to the same cardholder as the pending one; None if there is none or
    too many were sent recently."""
    old = db.session.get(OneTimeCode, code_id) if code_id else None
    if old is None or old.purpose != purpose:
        return None
    holder = db.session.get(Cardholder, old.cardholder_id)
    if purpose == CodePurpose.ENROL and holder.is_enrolled:
        return None
    return issue_code(holder, purpose)


def pending_holder(code_id: int | None) -> Cardholder | None:
    row = db.session.get(OneTimeCode, code_id) if code_id else None
    return db.session.get(Cardholder, row.cardholder_id) if row else None


def _use_code(code_id, purpose) -> tuple[OneTimeCode, Cardholder]:
    """Claim a verified code for its password step, once: the conditional UPDATE lets exactly
    one of several parallel submissions of the same code through (the others raise)."""
    row = verified_code(code_id, purpose)
    if row is None:
        raise CodeNotVerified()
    claimed = db.session.execute(
        update(OneTimeCode).where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise CodeNotVerified()
    db.session.refresh(row)
    return row, db.session.get(Cardholder, row.cardholder_id)


def complete_enrolment(code_id: int | None, password: str) -> Cardholder:
    """Set the first password of the cardholder behind a verified enrolment code (used once).
    Raises CodeNotVerified without one. The password must already satisfy the policy."""
    _row, holder = _use_code(code_id, CodePurpose.ENROL)
    if holder.is_enrolled:
        raise CodeNotVerified()
    holder.password_hash = generate_password_hash(password)
    holder.enrolled_at = utcnow()
    lockout.note_success(holder)
    end_all_sessions(holder)
    record("auth.enrolled", subject=holder, actor=("cardholder", holder.id),
           before={"enrolled": False}, after={"enrolled": True, "enrolled_at": holder.enrolled_at})
    db.session.flush()
    return holder


def start_reset(raw_identity: str) -> int | None:
    """Send a reset code to the enrolled cardholder with this phone or email, if there is
    exactly one and the typed identity has codes left in the window (counted for unknown
    identities too); return the code id, or None (the caller must answer the same either
    way)."""
    identity = normalise_identity(raw_identity)
    allowed = take_code_allowance(CodePurpose.RESET, identity_token(identity))
    holders = _find_enrolled(identity)
    if len(holders) != 1:
        record("auth.reset_requested", after={"identity_kind": identity_kind(identity),
                                               "known": False})
        return None
    holder = holders[0]
    record("auth.reset_requested", subject=holder,
           after={"identity_kind": identity_kind(identity), "known": True, "sent": allowed})
    code = issue_code(holder, CodePurpose.RESET) if allowed else None
    return code.id if code else None


def reset_token(raw_identity: str) -> str:
    return identity_token(normalise_identity(raw_identity))


def resend_reset(code_id: int | None, token: str) -> tuple[bool, int | None]:
    """Another reset code for the identity typed at the start (`token`, from reset_token).
    (False, None) once that identity used up its codes for the window, known or unknown
    alike; otherwise (True, id of the new code), the id being None when nobody has that
    identity or nothing could be sent. The answer never depends on who exists."""
    if not take_code_allowance(CodePurpose.RESET, token):
        return False, None
    code = resend_code(code_id, CodePurpose.RESET)
    return True, code.id if code else None


def complete_reset(code_id: int | None, password: str) -> Cardholder:
    """Replace the password of the cardholder behind a verified reset code (used once), lift
    any lockout, end all their sessions, and tell them on their phone or email that the password changed."""
    _row, holder = _use_code(code_id, CodePurpose.RESET)
    holder.password_hash = generate_password_hash(password)
    lockout.note_success(holder)
    end_all_sessions(holder)  # whoever signed in with the old password is signed out
    record("auth.password_reset", subject=holder, actor=("cardholder", holder.id),
           after={"password_changed": True})
    with force_locale(holder.locale or "en"):
        subject = _("Your password was changed")
        body = _("The password for your online access was just changed. If this was not you, "
                 "call the number on the back of your card.")
    if holder.phone:
        queue_sms(holder.phone, body, purpose="password_changed", cardholder_id=holder.id)
    elif holder.email:
        queue_email(holder.email, subject, body, purpose="password_changed",
                    cardholder_id=holder.id)
    db.session.flush()
    return holder


def record_logout(user) -> None:
    """Audit the sign-out and end every session of `user`, this device's and any other's."""
    end_all_sessions(user)
    record("auth.logout", subject=user)
