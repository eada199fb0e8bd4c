"""The words of a formal notice, in the reader's current language.

One `Letter` feeds both the HTML page and the PDF, so the two always say the same thing:
the amount, the date to pay by, and how to object (calmly, never as a threat).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date, get_locale, gettext as _, ngettext

from portal.core.filters import money


@dataclass(frozen=True)
class Letter:
    locale: str
    title: str
    facts: list[tuple[str, str]]  # (label, value) pairs shown as a box at the top
    body: list[str]
    objection_title: str
    objection: list[str]
    closing: list[str] = field(default_factory=list)
    filename: str = "notice.pdf"


def safe_filename(reference: str | None, fallback: str) -> str:
    """A download name made only of ASCII letters, digits, dots, dashes and underscores."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", reference or "").strip(".-_")[:60]
    return f"notice-{stem or fallback}.pdf"


def _title(kind: str) -> str:
    if kind == "formal_notice":
        return _("Formal notice about your overdue account")
    if kind == "reminder":
        return _("Reminder about your overdue account")
    return _("Notice about your card account")


def _long(value: date | None) -> str:
    return format_date(value, "long") if value else ""


def letter_for(notice, account, cardholder_name: str) -> Letter:
    """The notice's letter in the current request language.

    `notice` needs kind, issued_on, amount, currency, pay_by and reference attributes.
    """
    amount = money(notice.amount, notice.currency) if notice.amount is not None else None
    facts = [(_("Reference"), notice.reference or str(notice.id)),
             (_("Date of this notice"), _long(notice.issued_on)),
             (_("Card"), _("Card ending in %(last4)s", last4=account.card_last4))]
    if amount:
        facts.append((_("Amount overdue"), amount))
    if notice.pay_by:
        facts.append((_("Pay by"), _long(notice.pay_by)))

    body = [_("Dear %(name)s,", name=cardholder_name),
            _("This letter is about your card account ending in %(last4)s.",
              last4=account.card_last4)]
    if amount:
        body.append(_("On %(date)s the overdue amount on your account was %(amount)s.",
                      date=_long(notice.issued_on), amount=amount))
    days_late = getattr(notice, "days_late", 0) or 0
    if days_late > 0:
        body.append(ngettext("On %(date)s your account was %(num)d day late.",
                             "On %(date)s your account was %(num)d days late.", days_late,
                             date=_long(notice.issued_on)))
    if amount and notice.pay_by:
        body.append(_("Please pay %(amount)s by %(date)s, or contact us before then to agree "
                      "a repayment plan that you can afford.",
                      amount=amount, date=_long(notice.pay_by)))
    body.append(_("You can see what has happened on your account, and what happens next and "
                  "when, on the timeline page of the repayment portal."))
    body.append(_("If you are finding it hard to pay, please contact us. We will look at what "
                  "you can afford."))

    objection = [
        _("If you think this amount is wrong, or you want to object to this notice, please tell "
          "us. You can raise a dispute in the repayment portal or call the number on the back "
          "of your card. Tell us why, and send any evidence you have, such as receipts or bank "
          "statements."),
        _("We will check what you send us and reply to you. While we review a dispute about "
          "the amount, we pause collection of the amount in question."),
    ]
    return Letter(
        locale=str(get_locale()),
        title=_title(notice.kind),
        facts=facts,
        body=body,
        objection_title=_("If you disagree"),
        objection=objection,
        closing=[_("Yours sincerely,"), _("Customer service")],
        filename=safe_filename(notice.reference, str(notice.id)),
    )
