"""Fonts for every PDF the portal makes (notices, plan agreements, receipts), embedded.

A PDF that names a font without embedding it shows whatever the reader's machine has, and a
Chinese letter read without a Chinese font shows boxes (issue 13, item 1). So each PDF embeds
a subset of two TrueType-outline fonts, which reportlab can subset (it cannot subset the CFF
outlines of Debian's Noto CJK):

- **DejaVu Sans** (Debian `fonts-dejavu-core`; Bitstream Vera licence with public-domain
  changes: free to embed) for Latin text, digits, currency signs and the `•` of a masked
  card number;
- **WenQuanYi Zen Hei** (Debian `fonts-wqy-zenhei`; GPL-2 with a font embedding exception:
  a document embedding it is not covered by the GPL) for Chinese, or AR PL UMing (Debian
  `fonts-arphic-uming`, Arphic Public License) when only that is installed.

Each run of text takes the first font that has its characters. `PORTAL_PDF_LATIN_FONT`,
`PORTAL_PDF_LATIN_BOLD_FONT` and `PORTAL_PDF_CJK_FONT` name other files. Without the files
(a machine where the setup did not install them) PDFs are still made, with Helvetica and the
CID font STSong-Light that the reader supplies, as before; a warning says so once.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

LATIN_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
LATIN_BOLD_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",)
CJK_FILES = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/truetype/arphic/uming.ttc")
FALLBACK = ("Helvetica", "Helvetica-Bold", "STSong-Light")


def _first_file(variable: str, candidates: tuple[str, ...]) -> str | None:
    chosen = os.environ.get(variable)
    for path in ((chosen,) if chosen else candidates):
        if os.path.isfile(path):
            return path
    return None


def _ttf(name: str, path: str) -> TTFont:
    font = TTFont(name, path, subfontIndex=0) if path.endswith(".ttc") else TTFont(name, path)
    pdfmetrics.registerFont(font)
    return font


@dataclass(frozen=True)
class PdfFonts:
    """The fonts a PDF uses; `embedded` says whether they travel inside the file."""

    regular: str
    bold: str
    cjk: str
    embedded: bool
    _covers: tuple = ()  # (font name, set of code points) in order of preference

    def _font_for(self, char: str, bold: bool) -> str:
        latin = self.bold if bold else self.regular
        if not self.embedded:
            try:
                char.encode("cp1252")  # Helvetica's WinAnsi encoding in reportlab
            except UnicodeEncodeError:
                return self.cjk
            return latin
        if ord(char) in self._covers[0] or char.isspace():
            return latin
        return self.cjk if ord(char) in self._covers[1] else latin

    def runs(self, text: str, *, bold: bool = False) -> list[tuple[str, str]]:
        """`text` cut into (font name, text) runs, each run in a font that has its glyphs."""
        runs: list[tuple[str, str]] = []
        for char in text:
            font = self._font_for(char, bold)
            if runs and runs[-1][0] == font:
                runs[-1] = (font, runs[-1][1] + char)
            else:
                runs.append((font, char))
        return runs

    def markup(self, text: str, *, bold: bool = False) -> str:
        """Paragraph markup for `text` (escaped), switching font where the glyphs need it."""
        return "".join(f'<font name="{font}">{escape(run)}</font>'
                       for font, run in self.runs(text, bold=bold))

    def width(self, text: str, size: float, *, bold: bool = False) -> float:
        return sum(pdfmetrics.stringWidth(run, font, size)
                   for font, run in self.runs(text, bold=bold))

    def draw(self, canvas, x: float, y: float, text: str, size: float, *, bold: bool = False,
             right: bool = False) -> None:
        """Draw `text` on a reportlab canvas at (x, y), or ending at x when `right`."""
        if right:
            x -= self.width(text, size, bold=bold)
        for font, run in self.runs(text, bold=bold):
            canvas.setFont(font, size)
            canvas.drawString(x, y, run)
            x += pdfmetrics.stringWidth(run, font, size)


@lru_cache(maxsize=1)
def pdf_fonts() -> PdfFonts:
    """The fonts installed on this machine, registered with reportlab once per process."""
    latin = _first_file("PORTAL_PDF_LATIN_FONT", LATIN_FILES)
    latin_bold = _first_file("PORTAL_PDF_LATIN_BOLD_FONT", LATIN_BOLD_FILES) or latin
    cjk = _first_file("PORTAL_PDF_CJK_FONT", CJK_FILES)
    if latin and cjk:
        regular = _ttf("PortalSans", latin)
        _ttf("PortalSans-Bold", latin_bold)
        chinese = _ttf("PortalCJK", cjk)
        return PdfFonts("PortalSans", "PortalSans-Bold", "PortalCJK", True,
                        (frozenset(regular.face.charToGlyph), frozenset(chinese.face.charToGlyph)))
    log.warning("PDF fonts not found (DejaVu Sans: %s, a Chinese TrueType font: %s): PDFs name "
                "Helvetica and STSong-Light without embedding them; install fonts-dejavu-core "
                "and fonts-wqy-zenhei (docs/operations.md)", latin or "missing", cjk or "missing")
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK[2]))
    return PdfFonts(*FALLBACK, embedded=False)
