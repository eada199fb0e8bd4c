"""Attachments: checked by content (never by name), stored under a random name in the
document store (portal.core.storage: UPLOAD_DIR or the S3 bucket), never under static/.

Allowed: PDF, JPEG, PNG; at most MAX_BYTES each and MAX_FILES per upload. Hardship proof
(portal.plans) is checked and stored the same way.
"""
from __future__ import annotations

import io
import secrets
import unicodedata

from flask_babel import lazy_gettext as _
from sqlalchemy import select

from portal.core.storage import document_store
from portal.core.storage_move import KnownDocument
from portal.disputes.models import DisputeAttachment
from portal.extensions import db

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
MAX_PER_DISPUTE = 20
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}


class UploadRefused(ValueError):
    """A file was refused; the message is translated and says which file and why."""


def check_filename(name: str) -> str:
    """The name as given, if it is a plain file name (no folders, no control characters)."""
    if not name or not name.strip():
        raise UploadRefused(_("A file has no name. Please choose the file again."))
    if ("/" in name or "\\" in name or name in (".", "..") or name.startswith("..")
            or any(unicodedata.category(ch).startswith("C") for ch in name)):
        raise UploadRefused(_("The file name “%(name)s” contains folder names or hidden "
                              "characters. Please rename the file and try again.",
                              name=name.encode("ascii", "replace").decode()[:80]))
    if len(name) > 200:
        raise UploadRefused(_("A file name is too long. Please shorten it to 200 characters "
                              "or fewer."))
    return name


def sniff(content: bytes) -> str | None:
    """The content type the bytes really are (PDF, JPEG, PNG), or None."""
    for signature, content_type in _SIGNATURES:
        if content.startswith(signature):
            if content_type in _PIL_FORMATS and not _image_ok(content, content_type):
                return None
            return content_type
    return None


def _image_ok(content: bytes, content_type: str) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format != _PIL_FORMATS[content_type]:
                return False
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True


def _read_limited(storage) -> bytes:
    content = storage.stream.read(MAX_BYTES + 1)
    return content


def check_files(files, already: int = 0) -> list[tuple[str, bytes, str]]:
    """(name, content, content type) for each chosen file, or UploadRefused for the first bad
    one. Empty file inputs (nothing chosen) are skipped."""
    chosen = [f for f in files or [] if f is not None and getattr(f, "filename", "")]
    if len(chosen) > MAX_FILES:
        raise UploadRefused(_("You can add at most %(count)d files at a time.", count=MAX_FILES))
    if already + len(chosen) > MAX_PER_DISPUTE:
        raise UploadRefused(_("This dispute already has as many files as it can hold."))
    checked = []
    for storage in chosen:
        name = check_filename(storage.filename)
        content = _read_limited(storage)
        if len(content) > MAX_BYTES:
            raise UploadRefused(_("“%(name)s” is larger than 10 MB. Please send a smaller file.",
                                  name=name))
        if not content:
            raise UploadRefused(_("“%(name)s” is empty.", name=name))
        content_type = sniff(content)
        if content_type is None:
            raise UploadRefused(_("“%(name)s” is not a PDF, JPEG or PNG file. Please send one "
                                  "of those.", name=name))
        checked.append((name, content, content_type))
    return checked


def store(content: bytes, content_type: str | None = None) -> str:
    """Put the bytes in the document store under a new random name; returns that name.
    `content_type` is what `check_files` found (sniffed again when not given)."""
    stored_name = secrets.token_hex(16)
    document_store().put(stored_name, content,
                         content_type or sniff(content) or "application/octet-stream")
    return stored_name


def stored_documents():
    """Every dispute attachment the store should hold (for `documents move-to-store`)."""
    rows = db.session.execute(select(DisputeAttachment.stored_name, DisputeAttachment.content_type,
                                     DisputeAttachment.size).order_by(DisputeAttachment.id))
    for key, content_type, size in rows.yield_per(1000):
        yield KnownDocument(key, content_type, size)
