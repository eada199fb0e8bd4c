"""`flask documents move-to-store`: copy the documents kept in UPLOAD_DIR into the configured
object store, verified byte for byte, once.

Which documents exist is each feature's knowledge: features register a source (a function
yielding `KnownDocument`s) in portal.wiring. Re-running is safe: a document the store already
holds with the same bytes is counted, not copied again.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

import click
from flask.cli import AppGroup

from portal.core.storage import document_store, local_store
from portal.core.storage_types import DocumentMissing, StorageUnavailable

documents_cli = AppGroup("documents", help="Uploaded documents and where they are stored.")


@dataclass(frozen=True)
class KnownDocument:
    """A document a row refers to: its key, its checked type, and what was recorded at upload."""

    key: str
    content_type: str
    size: int
    sha256: str | None = None


_SOURCES: list[Callable[[], Iterable[KnownDocument]]] = []


def register_document_source(source: Callable[[], Iterable[KnownDocument]]) -> None:
    """Add a feature's documents to what the move command copies (idempotent)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def known_documents() -> Iterable[KnownDocument]:
    for source in _SOURCES:
        yield from source()


@dataclass
class MoveReport:
    moved: int = 0
    already: int = 0
    deleted_local: int = 0
    missing: int = 0
    unreferenced: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict:
        return {name: getattr(self, name) for name in
                ("moved", "already", "deleted_local", "missing", "unreferenced", "failed")}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def move_documents(local, target, documents: Iterable[KnownDocument], *,
                   delete_local: bool = False) -> MoveReport:
    """Copy each document from `local` to `target` and read it back; with `delete_local`,
    remove the local file once the target is known to hold the same bytes. Never overwrites
    an object that differs: that is reported as failed. Raises StorageUnavailable if the
    target stops answering (what was done so far stays done)."""
    report = MoveReport()
    seen = set()
    for doc in documents:
        seen.add(doc.key)
        outcome, problem = _move_one(local, target, doc)
        setattr(report, outcome, getattr(report, outcome) + 1)
        if problem:
            report.problems.append(f"{doc.key}: {problem}")
        elif delete_local and local.exists(doc.key):
            local.delete(doc.key)
            report.deleted_local += 1
    report.unreferenced = sum(1 for key in local.keys() if key not in seen)
    return report


def _move_one(local, target, doc: KnownDocument) -> tuple[str, str | None]:
    """(moved | already | missing | failed, what is wrong or None)."""
    try:
        data = local.get(doc.key)
    except DocumentMissing:
        try:
            stored = target.open(doc.key)
        except DocumentMissing:
            return "missing", "in neither the local folder nor the store"
        stored.stream.close()
        if stored.size != doc.size:
            return "failed", f"the store holds {stored.size} bytes, {doc.size} were uploaded"
        return "already", None
    if len(data) != doc.size or (doc.sha256 and _digest(data) != doc.sha256):
        return "failed", "the local file differs from what was uploaded; left where it is"
    if target.exists(doc.key):
        if _digest(target.get(doc.key)) != _digest(data):
            return "failed", "the store holds other bytes under this key; neither was changed"
        return "already", None
    target.put(doc.key, data, doc.content_type)
    if _digest(target.get(doc.key)) != _digest(data):
        return "failed", "the copy read back differs; the local file was kept"
    return "moved", None


@documents_cli.command("move-to-store")
@click.option("--delete-local", is_flag=True,
              help="Remove each local file once the store is verified to hold the same bytes.")
def move_to_store(delete_local):
    """Copy every uploaded document from UPLOAD_DIR into the object store (STORAGE_BACKEND=s3),
    verified by size and SHA-256. Safe to run again: what the store already holds is skipped.
    Exits 1 if a document failed or is missing."""
    target = document_store()
    if target.name == "local":
        raise click.UsageError("STORAGE_BACKEND is local: set STORAGE_BACKEND=s3 and the "
                               "STORAGE_S3_* settings first (docs/operations.md)")
    try:
        report = move_documents(local_store(), target, known_documents(),
                                delete_local=delete_local)
    except StorageUnavailable as exc:
        raise click.ClickException(f"the object store did not answer: {exc}; nothing is "
                                   "lost, run the command again") from exc
    for problem in report.problems:
        click.echo(f"problem {problem}", err=True)
    click.echo(", ".join(f"{name.replace('_', ' ')} {count}"
                         for name, count in report.counts().items()))
    if report.failed or report.missing:
        raise SystemExit(1)
    return report.counts()
