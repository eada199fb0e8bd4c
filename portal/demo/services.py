"""Loading the demo: cardholders through the real feed importer, then logins and staff."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

import pyotp
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.journal.feed_io import RawRow
from portal.journal.importer import ImportResult, import_rows
from portal.accounts.models import Account, Cardholder
from portal.audit.services import record
from portal.demo.data import (
    CARDHOLDER_PASSWORD, CARDHOLDERS, STAFF, STAFF_PASSWORD, bucket_for, feed_rows,
)
from portal.disputes.cli import setup_queues
from portal.extensions import db
from portal.jobs.nightly import run_nightly
from portal.staff.models import StaffRole, StaffUser
from portal.timeutil import utcnow

# The demo statement is this old on the first load; the nightly job fills in the days since.
STATEMENT_AGE_DAYS = 40


def demo_account_numbers() -> list[str]:
    return [account.number for holder in CARDHOLDERS for account in holder.accounts]

ACTOR = ("system", "demo")
# None: werkzeug's default (scrypt), as for real users. Tests swap in a cheaper method.
HASH_METHOD: str | None = None


def _hash(password: str) -> str:
    return generate_password_hash(password, HASH_METHOD) if HASH_METHOD else generate_password_hash(password)


class DemoRefused(Exception):
    """The demo must not be loaded here (production), or its rows were refused."""


@dataclass
class DemoResult:
    feed: ImportResult
    enrolled: int = 0
    staff_created: int = 0
    staff_reset: int = 0
    nightly: str | None = None  # the nightly run's summary, on the first load

    def summary(self) -> str:
        accounts = (f"demo accounts: {self.feed.created} created" if self.nightly
                    else "demo accounts: already loaded (the nightly job moves them on)")
        lines = [f"{accounts}; cardholders enrolled: {self.enrolled}; "
                 f"staff created: {self.staff_created}, reset: {self.staff_reset}"]
        if self.nightly:
            lines.append(f"nightly run up to today: {self.nightly}")
        return "\n".join(lines)


def refuse_in_production() -> None:
    if os.environ.get("PORTAL_ENV") == "production":
        raise DemoRefused("the demo has public passwords and is never loaded in production "
                          "(PORTAL_ENV=production)")


def load_demo(today: date | None = None) -> DemoResult:
    """Load the demo once; running it again changes nothing but restores the demo logins.

    The first load feeds the accounts through the account-feed importer as a statement
    STATEMENT_AGE_DAYS old (days past due counted to `today`, so each account is in its
    bucket today), then runs the nightly job up to today: interest, fees, consequences and
    letters of the last weeks appear on each timeline as they would in production. Later
    loads leave the accounts to the nightly job, like real ones. Demo cardholders are enrolled
    with the demo password and each staff role has a user with a fixed TOTP secret.
    Commits. Raises DemoRefused in production or if the importer refused a demo row.
    """
    refuse_in_production()
    first_load = not db.session.scalar(
        select(Account.id).where(Account.account_number.in_(demo_account_numbers())).limit(1))
    feed = ImportResult()
    if first_load:
        day = today or utcnow().date()  # the portal's clock, so a rehearsal date moves it too
        statement = day - timedelta(days=STATEMENT_AGE_DAYS)
        rows = (RawRow(line, values)
                for line, values in enumerate(feed_rows(day, statement), start=1))
        feed = import_rows(rows)
        if feed.rejected:
            reasons = "; ".join(f"row {line}: {reason}" for line, reason in feed.rejects)
            raise DemoRefused(f"the importer refused demo rows: {reasons}")
    result = DemoResult(feed)
    result.enrolled = _enrol_cardholders()
    result.staff_created, result.staff_reset = _ensure_staff()
    db.session.flush()
    setup_queues()  # disputes need queues with an agent in them (the demo agent speaks both)
    db.session.commit()
    if first_load:
        result.nightly = run_nightly(today).line()  # commits per batch
    return result


def _enrol_cardholders() -> int:
    ids = [holder.customer_id for holder in CARDHOLDERS]
    changed = 0
    for holder in db.session.scalars(select(Cardholder).where(Cardholder.customer_id.in_(ids))):
        if holder.password_hash and check_password_hash(holder.password_hash, CARDHOLDER_PASSWORD):
            continue
        holder.password_hash = _hash(CARDHOLDER_PASSWORD)
        holder.enrolled_at = holder.enrolled_at or utcnow()
        db.session.flush()
        record("cardholder.demo_enrolled", subject=holder, actor=ACTOR)
        changed += 1
    return changed


def _ensure_staff() -> tuple[int, int]:
    emails = [member.email for member in STAFF]
    existing = {s.email: s for s in db.session.scalars(
        select(StaffUser).where(StaffUser.email.in_(emails)))}
    created = reset = 0
    for member in STAFF:
        staff = existing.get(member.email)
        if staff is None:
            staff = StaffUser(email=member.email, name=member.name,
                              password_hash=_hash(STAFF_PASSWORD),
                              totp_secret=member.totp_secret,
                              role_rows=[StaffRole(role=member.role)])
            db.session.add(staff)
            db.session.flush()
            record("staff.demo_created", subject=staff, actor=ACTOR,
                   after={"email": member.email, "roles": [member.role.value]})
            created += 1
            continue
        fixed = []
        if not check_password_hash(staff.password_hash, STAFF_PASSWORD):
            staff.password_hash = _hash(STAFF_PASSWORD)
            fixed.append("password")
        if staff.totp_secret != member.totp_secret:
            staff.totp_secret, staff.totp_last_step = member.totp_secret, None
            fixed.append("totp_secret")
        if member.role not in staff.roles:
            staff.role_rows.append(StaffRole(role=member.role))
            fixed.append("role")
        if not staff.active:
            staff.active = True
            fixed.append("active")
        if fixed:
            db.session.flush()
            record("staff.demo_reset", subject=staff, actor=ACTOR, after={"reset": fixed})
            reset += 1
    return created, reset


def login_rows() -> tuple[list[list[str]], list[list[str]]]:
    """Printable rows for the demo's cardholder and staff logins (with current TOTP codes)."""
    cardholders = []
    for holder in CARDHOLDERS:
        for index, account in enumerate(holder.accounts):
            first = index == 0
            cardholders.append([
                holder.full_name if first else "", holder.phone if first else "",
                holder.email if first else "", CARDHOLDER_PASSWORD if first else "",
                holder.locale if first else "", f"{holder.profile} {holder.currency}",
                f"{account.number} (card {account.last4})",
                f"{bucket_for(account.dpd)} ({account.dpd} days)",
            ])
    staff = []
    for member in STAFF:
        totp = pyotp.TOTP(member.totp_secret)
        staff.append([member.role.value, member.email, STAFF_PASSWORD, member.totp_secret,
                      totp.now()])
    return cardholders, staff
