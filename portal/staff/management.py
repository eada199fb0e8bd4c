"""Administrators manage staff: create a member, change roles, switch an account off or on,
reset an authenticator. Services flush; the route commits.

Guarantees:
- every change is audited (who, what, before and after; never a secret or a token);
- the portal always keeps at least one administrator who can sign in: no change (switching off,
  taking away the admin role, one's own account included) leaves none, checked with the
  administrators' rows locked so two administrators cannot remove each other at once;
- a new member, and a member whose authenticator is reset, gets a one-time link by email
  (through the outbox) to set a password and enrol an authenticator; the link expires after
  STAFF_SETUP_LINK_TTL, works once, and an earlier unused link stops working;
- switching an account off ends its live sessions at once (portal.auth.session).
"""
from __future__ import annotations

import hashlib
import secrets

import pyotp
from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, or_, select, update
from werkzeug.security import generate_password_hash

from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.auth import lockout
from portal.auth.passwords import password_problem, personal_inputs
from portal.auth.session import end_all_sessions
from portal.extensions import db
from portal.outbox.services import queue_email
from portal.staff.models import (UNSET_PASSWORD, Role, SetupPurpose, StaffRole, StaffSetupLink,
                                 StaffUser)
from portal.staff.services import (TOTP_ISSUER, StaffError, checked_new_staff, checked_roles,
                                   claim_totp_step, matching_step)
from portal.timeutil import as_aware, utcnow

LOCALES = ("en", "zh_Hans")


class LastAdmin(StaffError):
    """The change would leave no active administrator."""


class SetupRefused(StaffError):
    """The set-up form was not accepted; `reason` says which field is wrong."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _keep_an_admin(target: StaffUser) -> None:
    """Refuse (LastAdmin) a change that takes `target` out of the administrators when no
    other switched-on administrator who has finished set-up would be left. Every
    administrator's row and the target's are locked first, always in id order, and the count
    is a new statement after the locks: of two administrators removing each other at once,
    the second waits for the first and then sees its change."""
    db.session.execute(
        select(StaffUser.id).where(or_(
            StaffUser.id == target.id,
            StaffUser.id.in_(select(StaffRole.staff_id).where(StaffRole.role == Role.ADMIN))))
        .order_by(StaffUser.id).with_for_update())
    left = db.session.scalar(
        select(func.count()).select_from(StaffUser).join(StaffRole)
        .where(StaffRole.role == Role.ADMIN, StaffUser.active.is_(True),
               StaffUser.password_hash != UNSET_PASSWORD, StaffUser.id != target.id))
    if not left:
        raise LastAdmin("this would leave no administrator")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue_link(member: StaffUser, purpose: SetupPurpose, actor: StaffUser | None,
                link_url) -> StaffSetupLink:
    """A new one-time link for `member` (earlier unused ones stop working), emailed through
    the outbox in the member's language. `link_url(token)` builds the absolute URL."""
    now = utcnow()
    db.session.execute(update(StaffSetupLink).where(
        StaffSetupLink.staff_id == member.id, StaffSetupLink.used_at.is_(None))
        .values(used_at=now))
    token = secrets.token_urlsafe(32)
    ttl = current_app.config["STAFF_SETUP_LINK_TTL"]
    link = StaffSetupLink(staff_id=member.id, token_hash=_token_hash(token), purpose=purpose,
                          totp_secret=pyotp.random_base32(), created_at=now, expires_at=now + ttl,
                          created_by_id=actor.id if actor else None)
    db.session.add(link)
    db.session.flush()
    hours = int(ttl.total_seconds() // 3600)
    with force_locale(member.locale or "en"):
        if purpose == SetupPurpose.NEW:
            subject = _("Your staff account for the repayment portal")
            intro = _("An administrator created a staff account for you.")
        else:
            subject = _("Set up your authenticator again")
            intro = _("An administrator reset your authenticator; the old one no longer works.")
        body = "\n\n".join((
            _("Hello %(name)s,", name=member.name), intro,
            _("Open this link to choose a password and add the portal to your authenticator "
              "app. It works once, for %(hours)d hours:", hours=hours),
            link_url(token),
            _("If you did not expect this email, tell your administrator.")))
    queue_email(member.email, subject, body, purpose=f"staff_setup_{purpose.value}")
    record("staff.setup_link_sent", subject=member,
           after={"purpose": purpose.value, "link_id": link.id, "expires_at": link.expires_at})
    return link


def create_member(email: str, name: str, roles, locale: str, *, actor: StaffUser,
                  link_url) -> StaffUser:
    """A new staff member with the given roles, who cannot sign in until they open the link
    emailed to them and set a password and an authenticator."""
    email, role_set = checked_new_staff(email, roles)
    member = StaffUser(email=email, name=name.strip(), password_hash=UNSET_PASSWORD,
                       totp_secret=pyotp.random_base32(), active=True, failed_logins=0,
                       locale=locale if locale in LOCALES else "en",
                       role_rows=[StaffRole(role=r) for r in role_set])
    db.session.add(member)
    db.session.flush()
    record("staff.created", subject=member,
           after={"email": email, "name": member.name, "roles": [r.value for r in role_set],
                  "locale": member.locale})
    _issue_link(member, SetupPurpose.NEW, actor, link_url)
    return member


def change_roles(member: StaffUser, roles) -> None:
    """Give `member` exactly `roles`; refused (LastAdmin) when it takes the admin role from
    the last administrator."""
    new = set(checked_roles(roles))
    old = member.roles
    if new == old:
        return
    if Role.ADMIN in old and Role.ADMIN not in new:
        _keep_an_admin(member)
    member.role_rows = [row for row in member.role_rows if row.role in new] + [
        StaffRole(role=r) for r in sorted(new - old)]
    db.session.flush()
    record("staff.roles_changed", subject=member, before={"roles": sorted(r.value for r in old)},
           after={"roles": sorted(r.value for r in new)})


def set_active(member: StaffUser, active: bool) -> None:
    """Switch `member` on or off. Switching off ends every live session at once and cancels
    any unused set-up link; refused (LastAdmin) for the last administrator."""
    if member.active == active:
        return
    if not active:
        if member.has_role(Role.ADMIN):
            _keep_an_admin(member)
        end_all_sessions(member)
        db.session.execute(update(StaffSetupLink).where(
            StaffSetupLink.staff_id == member.id, StaffSetupLink.used_at.is_(None))
            .values(used_at=utcnow()))
    member.active = active
    db.session.flush()
    record("staff.enabled" if active else "staff.disabled", subject=member,
           before={"active": not active}, after={"active": active})


def reset_authenticator(member: StaffUser, *, actor: StaffUser, link_url) -> StaffSetupLink:
    """The old authenticator stops working at once (a new secret nobody holds yet), the
    member's sessions end, and a new one-time link goes to them to enrol a new one."""
    if not member.active:
        raise StaffError("the account is switched off")
    member.totp_secret = pyotp.random_base32()
    member.totp_last_step = None
    end_all_sessions(member)
    db.session.flush()
    record("staff.authenticator_reset", subject=member, after={"sessions_ended": True})
    # For someone who never finished set-up this resends their invitation.
    purpose = SetupPurpose.NEW if member.setup_pending else SetupPurpose.AUTHENTICATOR
    return _issue_link(member, purpose, actor, link_url)


def link_for(token: str | None) -> StaffSetupLink | None:
    """The usable link for `token`: unused, unexpired, its member switched on; else None."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(select(StaffSetupLink).where(
        StaffSetupLink.token_hash == _token_hash(token)))
    if link is None or link.used_at is not None or as_aware(link.expires_at) <= utcnow():
        return None
    member = db.session.get(StaffUser, link.staff_id)
    return link if member is not None and member.active else None


def member_of(link: StaffSetupLink) -> StaffUser:
    return db.session.get(StaffUser, link.staff_id)


def provisioning_uri(link: StaffSetupLink) -> str:
    member = member_of(link)
    return pyotp.TOTP(link.totp_secret).provisioning_uri(name=member.email, issuer_name=TOTP_ISSUER)


def complete_setup(link: StaffSetupLink, password: str, code: str) -> StaffUser:
    """Set the member's password and authenticator from `link`, which is used up. Refused
    (SetupRefused with reason "password" or "code") without changing anything when the
    password fails the policy or the code is not the app's current one."""
    member = member_of(link)
    if password_problem(password, personal_inputs(name=member.name, email=member.email)):
        raise SetupRefused("password")
    step = matching_step(link.totp_secret, (code or "").strip())
    if step is None:
        raise SetupRefused("code")
    claimed = db.session.execute(update(StaffSetupLink).where(
        StaffSetupLink.id == link.id, StaffSetupLink.used_at.is_(None))
        .values(used_at=utcnow()), execution_options={"synchronize_session": False}).rowcount
    if claimed != 1:
        raise SetupRefused("used")
    member.password_hash = generate_password_hash(password)
    member.totp_secret = link.totp_secret
    db.session.flush()
    claim_totp_step(member, step)  # the code just typed cannot sign anyone in
    lockout.note_success(member)
    end_all_sessions(member)
    record("staff.setup_completed", subject=member, actor=("staff", member.id),
           after={"purpose": link.purpose.value, "link_id": link.id})
    db.session.flush()
    return member




# The administration changes a staff member's page lists (sign-ins and failures are left out).
HISTORY_ACTIONS = ("staff.created", "staff.setup_link_sent", "staff.setup_completed",
                   "staff.roles_changed", "staff.disabled", "staff.enabled",
                   "staff.authenticator_reset")


def history(member: StaffUser, limit: int = 20) -> list[tuple[AuditEvent, StaffUser | None]]:
    """The newest administration changes to `member` from the audit log, with who made each."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == StaffUser.__tablename__,
                                 AuditEvent.subject_id == str(member.id),
                                 AuditEvent.action.in_(HISTORY_ACTIONS))
        .order_by(AuditEvent.id.desc()).limit(limit)).all()
    ids = {int(e.actor_id) for e in events if e.actor_type == "staff" and e.actor_id.isdigit()}
    people = {p.id: p for p in db.session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))}
    return [(e, people.get(int(e.actor_id)) if e.actor_type == "staff" and e.actor_id.isdigit()
             else None) for e in events]
