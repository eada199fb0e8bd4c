"""Receipts: the facts of a posted payment, as HTML (template) or a PDF in the reader's language."""
from __future__ import annotations

import io

from flask_babel import format_date, gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from portal.core.filters import local_time
from portal.domain.money import format_money
from portal.notices.fonts import pdf_fonts
from portal.payments.models import Payment
from portal.payments.plan_link import instalment_positions


def receipt_lines(payment: Payment, locale: str) -> list[tuple[str, str]]:
    """(label, value) pairs shown on the receipt, in the active locale."""
    money = lambda v: format_money(v, payment.currency, locale)  # noqa: E731
    alloc = payment.allocation or {}
    lines = [
        (_("Receipt number"), payment.receipt_number or ""),
        (_("Card account"), payment.account.masked_card),
        (_("Paid on"), format_date(payment.paid_on, "long") if payment.paid_on else ""),
        (_("Recorded at"), local_time(payment.posted_at)),
        (_("Amount paid"), money(payment.amount)),
        (_("Applied to fees"), money(alloc.get("fee", 0))),
        (_("Applied to interest"), money(alloc.get("interest", 0))),
        (_("Applied to the balance"), money(alloc.get("principal", 0))),
    ]
    if alloc.get("unapplied"):
        lines.append((_("Credit on the account"), money(alloc["unapplied"])))
    applications = payment.plan_application or []
    positions = instalment_positions(instalment_id for instalment_id, _applied in applications)
    for instalment_id, applied in applications:
        number, count = positions.get(int(instalment_id), (None, None))
        label = (_("Applied to instalment %(number)s of %(count)s", number=number, count=count)
                 if number else _("Applied to the plan"))
        lines.append((label, money(applied)))
    if payment.refunded_amount:
        lines.append((_("Returned to the card"), money(payment.refunded_amount)))
    return lines


def receipt_pdf(payment: Payment, locale: str, portal_name: str) -> bytes:
    """A one-page PDF receipt in the embedded fonts of `portal.notices.fonts`."""
    fonts = pdf_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1,
                        lang=locale.replace("_", "-"))
    pdf.setTitle(_("Payment receipt") + " " + (payment.receipt_number or ""))
    width, height = A4
    y = height - 25 * mm
    fonts.draw(pdf, 20 * mm, y, portal_name, 16, bold=True)
    y -= 10 * mm
    fonts.draw(pdf, 20 * mm, y, _("Payment receipt"), 13, bold=True)
    y -= 12 * mm
    for label, value in receipt_lines(payment, locale):
        fonts.draw(pdf, 20 * mm, y, label, 10.5)
        fonts.draw(pdf, width - 20 * mm, y, value, 10.5, right=True)
        y -= 7 * mm
    y -= 5 * mm
    fonts.draw(pdf, 20 * mm, y, _("Payments are applied to fees first, then interest, then the "
                                  "balance."), 9)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
