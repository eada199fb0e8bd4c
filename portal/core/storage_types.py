"""What the document stores share: a stored file and the two ways reading one can fail."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO


class DocumentMissing(FileNotFoundError):
    """No document is stored under this key (or the key is not one the portal generates)."""


class StorageUnavailable(OSError):
    """The store did not answer or refused the request (outage, credentials, permissions)."""


@dataclass
class StoredFile:
    """A stored document opened for reading: close `stream` when done."""

    stream: BinaryIO
    size: int
    last_modified: datetime | None = None
    etag: str | None = None


def check_key(key: str) -> str:
    """The key if the portal could have generated it (letters and digits: no folders, no dots)."""
    if not isinstance(key, str) or not key or not key.isascii() or not key.isalnum():
        raise DocumentMissing(key)
    return key
