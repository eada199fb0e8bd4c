"""Issuing one-tap links, checking them, the short grant a right answer gives, and recording
the outcome a link led to.

A link never signs anyone in: a right answer to the light check (the last four digits of the
account's card, or the cardholder's date of birth) only lets the session see what the message was about and carry a grant
(`GRANT_KEY`) that says which message it came from. Paying or changing terms needs the normal
sign-in; the payment and plan pages then call `record_outcome`, which keeps the message that
led to the outcome when the signed-in cardholder is the one the link was for.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select, update

from portal.accounts.models import Account, Cardholder
from portal.audit.services import record
from portal.core.urls import external_url
from portal.extensions import db
from portal.links.models import PURPOSES, MessageOutcome, OneTapLink
from portal.outbox.models import OutboxMessage
from portal.timeutil import to_utc, utcnow

GRANT_KEY = "one_tap"  # kept across sign-in (portal.wiring), so the outcome can be attributed
# Where each purpose leads, after sign-in: endpoint and its query arguments.
TARGETS = {"pay_instalment": ("payments.pay", {"choice": "instalment"}),
           "pay": ("payments.pay", {}),
           "plan_offers": ("plans.offers", {})}
_MAX_TOKEN = 200  # longer than any token issued: not even hashed
OUTCOME_LABELS = {"payment": _l("Payment"), "plan": _l("Plan"), "promise": _l("Promise to pay")}
RECENT_OUTCOMES = 10


@dataclass(frozen=True)
class Issued:
    link: OneTapLink
    url: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(account: Account, purpose: str, *, amount: int | None = None,
          due_on=None) -> Issued:
    """A new link for `account` and `purpose` (flushed, not committed); it revokes the
    account's earlier unused links for the same purpose. Attach the message with `attach`."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown one-tap purpose {purpose!r}")
    now = utcnow()
    db.session.execute(update(OneTapLink).where(
        OneTapLink.account_id == account.id, OneTapLink.purpose == purpose,
        OneTapLink.used_at.is_(None), OneTapLink.revoked_at.is_(None),
        OneTapLink.voided_at.is_(None)).values(revoked_at=now)
        .execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(24)
    link = OneTapLink(token_hash=_hash(token), cardholder_id=account.cardholder_id,
                      account_id=account.id, purpose=purpose, amount=amount,
                      currency=account.currency if amount is not None else None, due_on=due_on,
                      session_version=account.cardholder.session_version or 0, created_at=now,
                      expires_at=now + current_app.config["ONE_TAP_LINK_TTL"])
    db.session.add(link)
    db.session.flush()
    return Issued(link, external_url("links.open", token=token))


def attach(link: OneTapLink, message) -> None:
    """Tie the link to the message that carries it; a message that will never go (none
    queued, or suppressed by the contact rules) leaves nobody holding the link: revoked."""
    if message is None or message.suppressed_at is not None:
        link.revoked_at = utcnow()
    else:
        link.message_id = message.id
    db.session.flush()


def usable(token: str) -> OneTapLink | None:
    """The link this token opens now, or None whatever the reason (unknown, expired, used,
    revoked, voided, or the cardholder's sessions ended since): callers answer every None
    the same way."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    link = db.session.scalar(select(OneTapLink).where(OneTapLink.token_hash == _hash(token)))
    if link is None or link.used_at or link.revoked_at or link.voided_at:
        return None
    if to_utc(link.expires_at) <= utcnow():
        return None
    holder = db.session.get(Cardholder, link.cardholder_id)
    if (holder.session_version or 0) != link.session_version:
        return None
    return link


def _answered_right(link: OneTapLink, last4: str | None, date_of_birth) -> tuple[bool, list[str]]:
    """Whether every answer given matches (at least one must be given), and which were given."""
    account = db.session.get(Account, link.account_id)
    given, right = [], True
    if last4:
        given.append("card_last4")
        right &= hmac.compare_digest(last4.encode(), account.card_last4.encode())
    if date_of_birth is not None:
        given.append("date_of_birth")
        holder = db.session.get(Cardholder, link.cardholder_id)
        right &= holder.date_of_birth == date_of_birth
    return right and bool(given), given


def check(link: OneTapLink, last4: str | None = None, date_of_birth=None) -> bool | None:
    """Answer the light check with the card's last four digits, the cardholder's date of
    birth, or both (every answer given must match): True (the link is used up now and the
    session holds the grant), False (wrong; counted, whichever was asked), None (the link
    stopped working: this answer voided it, or another request used it first). The caller
    commits."""
    now = utcnow()
    live = [OneTapLink.id == link.id, OneTapLink.used_at.is_(None),
            OneTapLink.revoked_at.is_(None), OneTapLink.voided_at.is_(None)]
    right, given = _answered_right(link, last4, date_of_birth)
    if right:
        used = db.session.scalar(update(OneTapLink).where(*live).values(used_at=now)
                                 .returning(OneTapLink.id)
                                 .execution_options(synchronize_session=False))
        if used is None:
            return None
        record("one_tap.used", subject_type="one_tap_link", subject_id=link.id,
               actor=("cardholder", link.cardholder_id), after={"checked": given})
        session[GRANT_KEY] = {"link": link.id, "account": link.account_id,
                              "cardholder": link.cardholder_id, "purpose": link.purpose,
                              "message": link.message_id,
                              "until": (now + current_app.config["ONE_TAP_GRANT_TTL"]).timestamp()}
        return True
    failed = db.session.scalar(update(OneTapLink).where(*live)
                               .values(failed_checks=OneTapLink.failed_checks + 1)
                               .returning(OneTapLink.failed_checks)
                               .execution_options(synchronize_session=False))
    if failed is None:
        return None
    if failed >= current_app.config["ONE_TAP_MAX_CHECKS"]:
        db.session.execute(update(OneTapLink).where(OneTapLink.id == link.id)
                           .values(voided_at=now).execution_options(synchronize_session=False))
        record("one_tap.voided", subject_type="one_tap_link", subject_id=link.id,
               after={"failed_checks": failed})
        return None
    return False


def grant() -> dict | None:
    """The session's one-tap grant while it lasts."""
    found = session.get(GRANT_KEY)
    if not isinstance(found, dict) or found.get("until", 0) <= utcnow().timestamp():
        return None
    return found


def granted_link() -> OneTapLink | None:
    found = grant()
    return db.session.get(OneTapLink, found["link"]) if found else None


def record_outcome(kind: str, object_id: int, account_id: int) -> MessageOutcome | None:
    """Keep the message that led to this outcome (`kind` 'payment', 'plan' or 'promise'),
    when the session followed a one-tap link for this account and the signed-in cardholder
    is the one it was for; None otherwise. Called once the outcome's row exists (flushed),
    inside its transaction; calling it again for the same outcome adds nothing. Called by the
    pay page, plan confirmation and the cardholder's promise to pay."""
    found = grant()
    if (found is None or found.get("account") != account_id
            or not current_user.is_authenticated or current_user.is_staff
            or current_user.id != found.get("cardholder")):
        return None
    existing = db.session.scalar(select(MessageOutcome).where(
        MessageOutcome.kind == kind, MessageOutcome.object_id == object_id))
    if existing is not None:
        return existing
    outcome = MessageOutcome(link_id=found["link"], message_id=found.get("message"),
                             account_id=account_id, kind=kind, object_id=object_id,
                             recorded_at=utcnow())
    db.session.add(outcome)
    db.session.flush()
    return outcome


def revoke_for_messages(message_ids: list[int]) -> None:
    """Revoke the links carried by messages that will now never go (withdrawn after they
    were queued): as `attach` does for a message suppressed at once. Flushes."""
    if message_ids:
        db.session.execute(update(OneTapLink).where(
            OneTapLink.message_id.in_(message_ids), OneTapLink.revoked_at.is_(None))
            .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
        db.session.flush()


def revoke_for_cardholder(cardholder_id: int) -> int:
    """Revoke every link of the cardholder still open; returns how many. The caller commits."""
    now = utcnow()
    ids = db.session.scalars(update(OneTapLink).where(
        OneTapLink.cardholder_id == cardholder_id, OneTapLink.used_at.is_(None),
        OneTapLink.revoked_at.is_(None), OneTapLink.voided_at.is_(None),
        OneTapLink.expires_at > now).values(revoked_at=now).returning(OneTapLink.id)
        .execution_options(synchronize_session=False)).all()
    if ids:
        record("one_tap.revoked", subject_type="cardholder", subject_id=cardholder_id,
               after={"links": len(ids)}, actor=("system", "links"))
    return len(ids)


def target_url(link_or_grant_purpose: str, account_id: int) -> tuple[str, dict]:
    endpoint, args = TARGETS[link_or_grant_purpose]
    return endpoint, {"account_id": account_id, **args}


def staff_context_section(account) -> dict:
    """For the staff account context: the account's newest outcomes that followed a message's
    one-tap link, each with when that message was queued."""
    rows = db.session.execute(
        select(MessageOutcome, OutboxMessage.created_at)
        .outerjoin(OutboxMessage, OutboxMessage.id == MessageOutcome.message_id)
        .where(MessageOutcome.account_id == account.id)
        .order_by(MessageOutcome.id.desc()).limit(RECENT_OUTCOMES)).all()
    return {"message_outcomes": [(outcome, sent) for outcome, sent in rows],
            "message_outcome_labels": OUTCOME_LABELS}
