"""A notice letter as a PDF: a pure function from `Letter` to bytes (no app, no database).

Text is set in the embedded fonts of `portal.notices.fonts` (DejaVu Sans, and a Chinese
TrueType font for what it cannot show), so a Chinese letter reads the same on any machine.
"""
from __future__ import annotations

from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portal.notices.fonts import PdfFonts, pdf_fonts
from portal.notices.letters import Letter


class _Styles:
    def __init__(self, cjk_letter: bool, fonts: PdfFonts):
        self.cjk_letter = cjk_letter
        self.fonts = fonts

    def style(self, *, size=10.5, bold=False, space_after=6) -> ParagraphStyle:
        return ParagraphStyle(
            "p", fontName=self.fonts.bold if bold else self.fonts.regular, fontSize=size,
            leading=size * 1.45, spaceAfter=space_after,
            wordWrap="CJK" if self.cjk_letter else None,
        )

    def para(self, text: str, *, bold=False, **kwargs) -> Paragraph:
        return Paragraph(self.fonts.markup(text, bold=bold), self.style(bold=bold, **kwargs))


def render_pdf(letter: Letter, *, compress: bool = True) -> bytes:
    """The letter as PDF bytes, A4. With `compress=False` page text stays readable in the
    file, which tests use to find the amount without a PDF parser."""
    styles = _Styles(letter.locale.startswith("zh"), pdf_fonts())
    story = [styles.para(letter.title, size=16, bold=True, space_after=10)]

    facts = [[styles.para(label, bold=True, space_after=0), styles.para(value, space_after=0)]
             for label, value in letter.facts]
    table = Table(facts, colWidths=[55 * mm, None], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.75, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    story += [table, Spacer(1, 8 * mm)]
    story += [styles.para(text) for text in letter.body]
    story += [Spacer(1, 3 * mm), styles.para(letter.objection_title, size=12.5, bold=True)]
    story += [styles.para(text) for text in letter.objection]
    story += [Spacer(1, 4 * mm)] + [styles.para(text, space_after=2) for text in letter.closing]

    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=22 * mm,
        bottomMargin=22 * mm, title=letter.title, pageCompression=1 if compress else 0,
        invariant=1, lang=letter.locale.replace("_", "-"),
    )
    doc.build(story)
    return buffer.getvalue()
