"""Attachments: checked by content (never by name), stored outside static/ under a random name.

Allowed: PDF, JPEG, PNG; at most MAX_BYTES each and MAX_FILES per upload.
"""
from __future__ import annotations

import io
import os
import secrets
import unicodedata

from flask import current_app
from flask_babel import lazy_gettext as _

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


def upload_dir() -> str:
    path = current_app.config.get("UPLOAD_DIR") or os.path.join(current_app.instance_path,
                                                                "uploads")
    os.makedirs(path, exist_ok=True)
    return path


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


def store(content: bytes) -> str:
    """Write the bytes under a new random name in the upload folder; returns that name."""
    stored_name = secrets.token_hex(16)
    path = os.path.join(upload_dir(), stored_name)
    with open(path, "xb") as fh:
        fh.write(content)
    return stored_name


def path_of(stored_name: str) -> str:
    if not stored_name.isalnum():  # only names we generated
        raise FileNotFoundError(stored_name)
    return os.path.join(upload_dir(), stored_name)
