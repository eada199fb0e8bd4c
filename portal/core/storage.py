"""Documents: one storage interface, a local-disk backend (the default) and S3 (production).

Every uploaded document is stored under a key the portal generated (letters and digits only)
and is read back through `document_store()`, whichever backend the configuration names
(docs/operations.md, "Document storage"). Downloads are streamed by the app
(`send_document`), so the route's access checks stay the only door: the bucket is never
exposed to browsers.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timezone
from typing import BinaryIO, Protocol
from zlib import adler32

from flask import abort, current_app, request, send_file
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from portal.core.storage_types import (DocumentMissing, StorageUnavailable, StoredFile,
                                         check_key)

BACKENDS = ("local", "s3")
SSE_MODES = ("AES256", "aws:kms")

__all__ = ["DocumentMissing", "StorageUnavailable", "StoredFile", "DocumentStore", "LocalStore",
           "document_store", "local_store", "send_document", "config_problem",
           "check_key"]


class DocumentStore(Protocol):
    """What every backend offers. Keys are the portal's own random names (`check_key`)."""

    name: str

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> None:
        """Store the bytes (or what the stream holds) under `key`, replacing nothing else."""

    def open(self, key: str) -> StoredFile:
        """The stored document as a stream with its size; DocumentMissing if there is none."""

    def get(self, key: str) -> bytes:
        """The stored bytes; DocumentMissing if there are none."""

    def exists(self, key: str) -> bool:
        """Whether a document is stored under `key`."""

    def delete(self, key: str) -> None:
        """Remove the document; nothing happens if there is none."""


class LocalStore:
    """Files in one folder, named by their key: today's layout under UPLOAD_DIR."""

    name = "local"

    def __init__(self, root: str):
        self.root = root

    def path(self, key: str) -> str:
        return os.path.join(self.root, check_key(key))

    def put(self, key, data, content_type):
        path = self.path(key)
        os.makedirs(self.root, exist_ok=True)
        # Written under a temporary name and moved into place, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    fh.write(data)
                else:
                    shutil.copyfileobj(data, fh)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def open(self, key):
        path = self.path(key)
        try:
            fh = open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise DocumentMissing(key) from exc
        stat = os.fstat(fh.fileno())
        check = adler32(path.encode()) & 0xFFFFFFFF
        return StoredFile(stream=fh, size=stat.st_size,
                          last_modified=datetime.fromtimestamp(stat.st_mtime, timezone.utc),
                          etag=f"{stat.st_mtime}-{stat.st_size}-{check}")

    def get(self, key):
        with self.open(key).stream as fh:
            return fh.read()

    def exists(self, key):
        try:
            return os.path.isfile(self.path(key))
        except DocumentMissing:
            return False

    def delete(self, key):
        try:
            os.remove(self.path(key))
        except (FileNotFoundError, DocumentMissing):
            pass

    def keys(self):
        """Every key stored here (temporary files and anything not named by the portal skipped)."""
        try:
            names = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []
        return [n for n in names if n.isascii() and n.isalnum()
                and os.path.isfile(os.path.join(self.root, n))]


def upload_dir(app=None) -> str:
    app = app or current_app
    return app.config.get("UPLOAD_DIR") or os.path.join(app.instance_path, "uploads")


def local_store(app=None) -> LocalStore:
    """The local folder, whatever the configured backend (the move command reads from it)."""
    return LocalStore(upload_dir(app))


def document_store(app=None) -> DocumentStore:
    """The configured backend: STORAGE_BACKEND=local (default) or s3. The S3 client is built
    once per app and configuration (boto3 clients are thread-safe)."""
    app = app or current_app
    config = app.config
    if config.get("STORAGE_BACKEND", "local") != "s3":
        return local_store(app)
    settings = tuple(config.get(name) for name in S3_SETTINGS)
    cache = app.extensions.setdefault("portal.document_store", {})
    store = cache.get(settings)
    if store is None:
        # Lazy: boto3 takes more than half a second to import, and processes on the local
        # backend (development, tests, one-machine installations) never need it.
        from portal.core.storage_s3 import s3_store_from

        cache.clear()
        store = cache[settings] = s3_store_from(dict(zip(S3_SETTINGS, settings)))
    return store


S3_SETTINGS = ("STORAGE_S3_BUCKET", "STORAGE_S3_PREFIX", "STORAGE_S3_ENDPOINT_URL",
               "STORAGE_S3_REGION", "STORAGE_S3_SSE", "STORAGE_S3_KMS_KEY_ID",
               "STORAGE_S3_ADDRESSING_STYLE")


def config_problem(config, production: bool) -> str | None:
    """Why this configuration cannot store documents (None when it can)."""
    backend = config.get("STORAGE_BACKEND", "local")
    if backend not in BACKENDS:
        return f"STORAGE_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}"
    if backend == "s3":
        if not config.get("STORAGE_S3_BUCKET"):
            return "STORAGE_S3_BUCKET must be set with STORAGE_BACKEND=s3"
        if config.get("STORAGE_S3_SSE") not in SSE_MODES:
            return (f"STORAGE_S3_SSE must be one of {', '.join(SSE_MODES)}: documents are "
                    "always encrypted at rest")
        return None
    if production and not config.get("STORAGE_ALLOW_LOCAL_IN_PRODUCTION"):
        return ("STORAGE_BACKEND=s3 (with STORAGE_S3_BUCKET) must be set in production "
                "(PORTAL_ENV=production): a second web machine cannot read documents on this "
                "one's disk. A single-machine installation may set "
                "STORAGE_ALLOW_LOCAL_IN_PRODUCTION=1 (docs/operations.md)")
    return None


def send_document(key: str, *, content_type: str, download_name: str):
    """The stored document as a download (attachment, its checked content type, never cached:
    see portal.core.security). 404 when the file is gone; StorageUnavailable (a 503 page,
    portal.core.errors) when the store does not answer. The caller has already decided that
    the signed-in person may read it."""
    try:
        stored = document_store().open(key)
    except DocumentMissing:  # the row outlived its file (restored database, lost volume)
        abort(404)
    response = send_file(stored.stream, mimetype=content_type, as_attachment=True,
                         download_name=download_name, max_age=0, etag=stored.etag,
                         last_modified=stored.last_modified, conditional=False)
    response.content_length = stored.size
    try:
        return response.make_conditional(request.environ, accept_ranges=True,
                                         complete_length=stored.size)
    except RequestedRangeNotSatisfiable:
        stored.stream.close()
        raise
