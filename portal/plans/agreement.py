"""The agreement: the exact terms text a cardholder sees, its hash, and the PDF.

The text is built in one locale from the terms alone, so the page that shows it and the
server that records the acceptance compute the same sha256; any change in amounts, dates,
policy version or language gives another hash and the acceptance is refused.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from babel.dates import format_date
from flask_babel import force_locale, gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from portal.domain.money import format_money
from portal.notices.fonts import pdf_fonts
from portal.plans.offers import Terms


@dataclass(frozen=True)
class AgreementContext:
    holder_name: str
    account_number: str
    masked_card: str
    profile: str
    policy_version: int
    grace_days: int


def kind_name(kind: str) -> str:
    return {"instalment": _("Instalment plan"), "settlement": _("Settlement (one payment)"),
            "deferral": _("Pay later (one payment)")}[kind]


def frequency_name(frequency: str) -> str:
    return {"weekly": _("Weekly"), "fortnightly": _("Every two weeks"),
            "monthly": _("Monthly")}[frequency]


def babel_locale(locale: str) -> str:
    return "zh_Hans_CN" if locale.startswith("zh") else locale


def terms_lines(terms: Terms, ctx: AgreementContext, locale: str) -> list[str]:
    """The agreement as lines of text in `locale` (whole translated sentences)."""
    loc = babel_locale(locale)

    def money(amount: int) -> str:
        return format_money(amount, terms.currency, loc)

    with force_locale(locale):
        spec = terms.spec
        lines = [
            _("Repayment plan agreement"),
            _("Cardholder: %(name)s", name=ctx.holder_name),
            _("Account %(number)s, card %(card)s", number=ctx.account_number,
              card=ctx.masked_card),
            _("Plan type: %(kind)s", kind=kind_name(spec.kind)),
        ]
        if spec.kind == "instalment":
            lines.append(_("How often: %(frequency)s", frequency=frequency_name(spec.frequency)))
            lines.append(_("Number of payments: %(count)s", count=len(terms.schedule)))
        lines.append(_("Amount owed today: %(amount)s", amount=money(terms.balance)))
        if terms.fees_waived:
            lines.append(_("Fees waived: %(amount)s", amount=money(terms.fees_waived)))
        if terms.discount:
            lines.append(_("Settlement discount: %(amount)s", amount=money(terms.discount)))
        if terms.interest_added:
            lines.append(_("Interest at %(rate)s%% a year added to the plan: %(amount)s",
                           rate=spec.interest_rate_percent, amount=money(terms.interest_added)))
        elif spec.kind == "instalment":
            lines.append(_("No further interest is charged while you keep to this plan."))
        lines.append(_("Total to repay: %(amount)s", amount=money(terms.total)))
        lines.extend(cost_lines(terms, money))
        lines.append(_("Payments:"))
        for inst in terms.schedule:
            lines.append(_("%(seq)s. %(date)s: %(amount)s", seq=inst.seq,
                           date=format_date(inst.due_date, "long", locale=loc),
                           amount=money(inst.amount)))
        if terms.concession:
            lines.append(_("The fees waived and any discount are applied when the plan is "
                           "fully paid. If the plan ends early, they are not applied."))
        lines.append(_("If a payment is still unpaid %(days)s days after its due date, the plan "
                       "ends and the usual steps for overdue accounts start again.",
                       days=ctx.grace_days))
        lines.append(_("You can cancel the plan at any time. What you have paid stays paid."))
        lines.append(_("Terms under policy %(profile)s, version %(version)s.",
                       profile=ctx.profile, version=ctx.policy_version))
    return lines


def cost_lines(terms: Terms, money) -> list[str]:
    """The cost of the credit, the same figures on every offer (`portal.domain.cost`)."""
    cost = terms.cost
    lines = [_("Annualised interest rate: %(rate)s%%", rate=format_percent_figure(cost)),
             _("Interest in all: %(amount)s", amount=money(cost.interest))]
    if len(terms.schedule) > 1:
        lines.append(_("Smallest payment: %(smallest)s; largest payment: %(largest)s",
                       smallest=money(cost.smallest_payment), largest=money(cost.largest_payment)))
    return lines


def format_percent_figure(cost) -> str:
    """The rate with two decimals, as disclosed (e.g. "18.25", "0.00")."""
    return f"{cost.annual_rate_percent:.2f}"


def terms_text(terms: Terms, ctx: AgreementContext, locale: str) -> str:
    return "\n".join(terms_lines(terms, ctx, locale))


def terms_hash(terms: Terms, ctx: AgreementContext, locale: str) -> str:
    """sha256 (hex) of the exact terms text shown in `locale`."""
    return hashlib.sha256(terms_text(terms, ctx, locale).encode("utf-8")).hexdigest()


def agreement_pdf(lines: list[str], *, footer: str, locale: str) -> bytes:
    """A simple A4 PDF of the agreement lines, in the embedded fonts of
    `portal.notices.fonts` (Chinese included), so it reads the same on any machine."""
    fonts = pdf_fonts()
    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=10.5, leading=15,
                          wordWrap="CJK" if locale.startswith("zh") else None)
    title = ParagraphStyle("title", parent=body, fontName=fonts.bold, fontSize=16, leading=22,
                           spaceAfter=10)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=lines[0], author="",
                            invariant=1, lang=locale.replace("_", "-"))
    story = [Paragraph(fonts.markup(lines[0], bold=True), title)]
    story += [Paragraph(fonts.markup(line), body) for line in lines[1:]]
    story += [Spacer(1, 12), Paragraph(fonts.markup(footer), body)]
    doc.build(story)
    return buffer.getvalue()
