"""Side effects of a nightly batch that speak to people: notice messages and audit events."""
from __future__ import annotations

from flask_babel import force_locale, gettext as _

from portal.accounts.models import Account
from portal.audit.services import record
from portal.extensions import db
from portal.outbox.models import MessageKind
from portal.outbox.services import queue_email, queue_sms


def announce_notices(notices: list[dict]) -> None:
    """Queue a short email and text saying a letter is ready (no amounts, no threats).

    Collection messages: the contact rules hold them until the cardholder's morning, and
    skip them for opted-out channels, accounts on a dispute hold and over the cap."""
    for notice in notices:
        account = db.session.get(Account, notice["account_id"])
        holder = account.cardholder
        with force_locale(notice["locale"]):
            subject = _("A letter about your card account")
            body = _("A letter about your card account ending %(last4)s is ready to read "
                     "when you sign in to the card repayment portal.", last4=account.card_last4)
        if holder.email:
            queue_email(holder.email, subject, body, purpose="notice_available",
                        cardholder_id=holder.id, kind=MessageKind.COLLECTION,
                        account_id=account.id)
        if holder.phone:
            queue_sms(holder.phone, body, purpose="notice_available", cardholder_id=holder.id,
                      kind=MessageKind.COLLECTION, account_id=account.id)


def audit_status_changes(changes) -> None:
    """One audit event per account whose status the policy changed."""
    for account, before, after in changes:
        record("account.status_by_policy", subject_type="account", subject_id=account.id,
               before={"status": before}, after={"status": after}, actor=("system", "nightly"))
