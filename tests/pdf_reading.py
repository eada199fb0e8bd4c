"""Reading a PDF back as a reader would (pypdf): its text, and which fonts it leaves to the
reader's machine."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from portal.notices.fonts import pdf_fonts

# The standard 14 fonts every PDF reader must have; any other font must travel in the file.
STANDARD_14 = {
    "Courier", "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique", "Helvetica",
    "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique", "Times-Roman", "Times-Bold",
    "Times-Italic", "Times-BoldItalic", "Symbol", "ZapfDingbats",
}


def pdf_text(data: bytes) -> str:
    """The text of every page, in order, as extracted by pypdf."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def squeezed(text: str) -> str:
    """Without whitespace, so a sentence matches however the PDF wrapped its lines."""
    return "".join(text.split())


def _is_embedded(font) -> bool:
    if font.get("/Subtype") == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else {}
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def fonts_used(data: bytes) -> dict[str, bool]:
    """Each font a page uses (base name without the subset tag) -> embedded or not."""
    found: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get_object().get("/Font") or {}).values():
            font = font.get_object()
            name = str(font.get("/BaseFont", "")).lstrip("/").split("+")[-1]
            found[name] = _is_embedded(font)
    return found


def not_embedded(data: bytes) -> list[str]:
    """Fonts other than the standard 14 that the PDF names without embedding."""
    return sorted(name for name, embedded in fonts_used(data).items()
                  if not embedded and name not in STANDARD_14)


@pytest.fixture()
def embedded_fonts():
    """Skips where the setup has not installed the PDF fonts (docs/operations.md); a required
    run (E2E_REQUIRED=1, as in .ci/run, which installs them) counts the skip as a failure."""
    if not pdf_fonts().embedded:
        pytest.skip("PDF fonts missing: apt-get install fonts-dejavu-core fonts-wqy-zenhei")
