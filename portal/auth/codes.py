"""One-time codes: issue, send through the outbox, check. Only a keyed hash is stored."""
from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, gettext as _
from limits import parse
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import Cardholder
from portal.audit.services import record
from portal.auth.models import CodePurpose, OneTimeCode
from portal.extensions import db, limiter
from portal.outbox.services import queue_email, queue_sms
from portal.timeutil import as_aware, utcnow

# More than this many codes for one person and purpose within the window: stop sending.
MAX_CODES_PER_WINDOW = 4
CODE_WINDOW = timedelta(minutes=15)


class CodeCheck(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"  # wrong digits, tries left
    DEAD = "dead"  # expired, used up, or too many wrong tries: start over


@dataclass
class CodeResult:
    status: CodeCheck
    code: OneTimeCode | None = None
    tries_left: int = 0


def _hash(code: str, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return nonce + "$" + hmac.new(key, f"{nonce}:{code}".encode(), hashlib.sha256).hexdigest()


def _matches(code: str, stored: str) -> bool:
    nonce, _, _digest = stored.partition("$")
    return hmac.compare_digest(_hash(code, nonce), stored)


def _message(purpose: CodePurpose, code: str, minutes: int) -> tuple[str, str]:
    if purpose == CodePurpose.ENROL:
        subject = _("Your code to set up online access")
        body = _("Your code to set up online access is %(code)s. It is valid for %(minutes)s "
                 "minutes. Do not share it with anyone, not even with us.",
                 code=code, minutes=minutes)
    else:
        subject = _("Your code to reset your password")
        body = _("Your code to reset your password is %(code)s. It is valid for %(minutes)s "
                 "minutes. Do not share it with anyone, not even with us. If you did not ask "
                 "for it, you can ignore this message.", code=code, minutes=minutes)
    return subject, body


def channel_for(holder: Cardholder) -> str:
    return "sms" if holder.phone else "email"


def too_many_recent_codes(holder: Cardholder, purpose: CodePurpose) -> bool:
    since = utcnow() - CODE_WINDOW
    count = db.session.scalar(select(func.count(OneTimeCode.id)).where(
        OneTimeCode.cardholder_id == holder.id, OneTimeCode.purpose == purpose,
        OneTimeCode.created_at >= since))
    return count >= MAX_CODES_PER_WINDOW


def identity_token(identity: str) -> str:
    """A keyed hash of a typed identity: lets the session and the rate-limit store count per
    identity without carrying the phone number or email itself."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"identity:{identity}".encode(), hashlib.sha256).hexdigest()[:32]


def take_code_allowance(purpose: CodePurpose, token: str) -> bool:
    """Count one code asked for the typed identity behind `token`, known or not; False once
    MAX_CODES_PER_WINDOW were asked within CODE_WINDOW. The count lives in the rate-limit
    store, so a fresh cookie does not reset it and an unknown identity runs out exactly
    like a real one."""
    limit = parse(f"{MAX_CODES_PER_WINDOW} per {int(CODE_WINDOW.total_seconds() // 60)} minutes")
    try:
        return limiter.limiter.hit(limit, "code-requests", purpose.value, token)
    except Exception:  # the rate-limit store being down must not stop resets; the DB limit holds
        return True


def issue_code(holder: Cardholder, purpose: CodePurpose) -> OneTimeCode | None:
    """Create a fresh 6-digit code, retire earlier unused ones, queue it to the phone on file
    (email if no phone) in the cardholder's language. Returns None, sending nothing, when too
    many codes went out recently or there is nowhere to send one."""
    if too_many_recent_codes(holder, purpose) or not (holder.phone or holder.email):
        return None
    now = utcnow()
    db.session.execute(update(OneTimeCode).where(
        OneTimeCode.cardholder_id == holder.id, OneTimeCode.purpose == purpose,
        OneTimeCode.used_at.is_(None)).values(used_at=now))
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = current_app.config["OTP_TTL_MINUTES"]
    row = OneTimeCode(cardholder_id=holder.id, purpose=purpose,
                      code_hash=_hash(code, secrets.token_hex(8)),
                      expires_at=now + timedelta(minutes=minutes), attempts=0, created_at=now)
    db.session.add(row)
    db.session.flush()
    with force_locale(holder.locale or "en"):
        subject, body = _message(purpose, code, minutes)
    kind = f"otp_{purpose.value}"
    if holder.phone:
        queue_sms(holder.phone, body, purpose=kind, cardholder_id=holder.id)
    else:
        queue_email(holder.email, subject, body, purpose=kind, cardholder_id=holder.id)
    record("auth.code_sent", subject=holder, actor=("system", None),
           after={"purpose": purpose.value, "channel": channel_for(holder), "code_id": row.id})
    return row


def _alive(row: OneTimeCode) -> bool:
    return (row.used_at is None and row.attempts < current_app.config["OTP_MAX_ATTEMPTS"]
            and as_aware(row.expires_at) > utcnow())


def _claim_attempt(row: OneTimeCode) -> int | None:
    """Use up one try of a live code in a single UPDATE and return the tries used so far, or
    None if the code has none left (or was used). Parallel guesses each take their own try,
    so no more than OTP_MAX_ATTEMPTS guesses are ever compared with the code."""
    attempts = db.session.execute(
        update(OneTimeCode).where(
            OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None),
            OneTimeCode.attempts < current_app.config["OTP_MAX_ATTEMPTS"])
        .values(attempts=OneTimeCode.attempts + 1).returning(OneTimeCode.attempts),
        execution_options={"synchronize_session": False}).scalar_one_or_none()
    if attempts is not None:
        set_committed_value(row, "attempts", attempts)
    return attempts


def check_code(code_id: int | None, purpose: CodePurpose, entered: str) -> CodeResult:
    """Compare `entered` with the pending code. Every try counts, claimed in the database
    before comparing; after the fifth the code is dead. An expired, used or dead code never
    matches, whatever was typed."""
    row = db.session.get(OneTimeCode, code_id) if code_id else None
    if row is None or row.purpose != purpose:
        return CodeResult(CodeCheck.DEAD)
    subject = {"subject_type": "cardholder", "subject_id": row.cardholder_id}
    if not _alive(row) or _claim_attempt(row) is None:
        record("auth.code_failed", **subject, after={"code_id": row.id, "reason": "dead"})
        return CodeResult(CodeCheck.DEAD, row)
    if _matches(entered, row.code_hash):
        row.verified_at = utcnow()
        record("auth.code_verified", **subject, actor=("cardholder", row.cardholder_id),
               after={"code_id": row.id, "purpose": purpose.value})
        return CodeResult(CodeCheck.OK, row)
    left = current_app.config["OTP_MAX_ATTEMPTS"] - row.attempts
    record("auth.code_failed", **subject,
           after={"code_id": row.id, "attempts": row.attempts, "exhausted": left <= 0})
    db.session.flush()
    return CodeResult(CodeCheck.WRONG if left > 0 else CodeCheck.DEAD, row, max(left, 0))


def verified_code(code_id: int | None, purpose: CodePurpose) -> OneTimeCode | None:
    """The code behind a password step: verified, not yet used, and verified recently."""
    row = db.session.get(OneTimeCode, code_id) if code_id else None
    if row is None or row.purpose != purpose or row.verified_at is None or row.used_at:
        return None
    ttl = timedelta(minutes=current_app.config["OTP_TTL_MINUTES"])
    if as_aware(row.verified_at) + ttl < utcnow():
        return None
    return row
