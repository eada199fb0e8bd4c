"""The audit log's signed global heads, exported outside the database (docs/audit.md).

`anchor_and_export()` is the daily step a scheduler calls (after the nightly run): it signs
every audit stream's head (`portal.audit.services.make_anchor`), commits, and exports every
anchor the database holds as one file each, `audit-anchor-NNNNNN.json` in AUDIT_ANCHOR_DIR,
from where they are copied off the database host. An anchor never changes, so its file never
does: a re-run writes only files that are missing and leaves the others byte for byte. A file
that is there with other content is never replaced (it may be the evidence that the database
was rewritten); the export stops and says so.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from portal.audit.models import AuditAnchor
from portal.audit.services import anchor_record, make_anchor
from portal.exports.services import write_atomically
from portal.extensions import db


class AnchorFileClash(Exception):
    """An anchor file in the export directory differs from the anchor the database holds."""


@dataclass(frozen=True)
class AnchorExport:
    written: list[str]  # paths written by this run
    unchanged: int  # anchors whose file was already there, identical


@dataclass(frozen=True)
class AnchorRun:
    anchor: AuditAnchor
    path: str
    export: AnchorExport


def anchor_dir() -> str:
    return current_app.config.get("AUDIT_ANCHOR_DIR") or os.path.join(
        current_app.instance_path, "audit-anchors")


def anchor_path(directory: str, anchor_id: int) -> str:
    return os.path.join(directory, f"audit-anchor-{anchor_id:06d}.json")


def anchor_text(anchor: AuditAnchor) -> str:
    """The file's content: the anchor record as one JSON object (keys sorted) and a newline,
    the form `flask audit verify --anchor FILE` reads back."""
    return json.dumps(anchor_record(anchor), sort_keys=True) + "\n"


def export_anchors(directory: str | None = None, since_id: int = 0) -> AnchorExport:
    """Write each anchor (from `since_id` on) that has no file yet; check the others are
    unchanged. Raises AnchorFileClash, having written the anchors before the clash."""
    directory = directory or anchor_dir()
    written, unchanged = [], 0
    anchors = db.session.scalars(select(AuditAnchor).where(AuditAnchor.id >= since_id)
                                 .order_by(AuditAnchor.id))
    for anchor in anchors:
        path, text = anchor_path(directory, anchor.id), anchor_text(anchor)
        if os.path.exists(path):
            with open(path, encoding="utf-8", newline="") as existing:
                if existing.read() != text:
                    raise AnchorFileClash(
                        f"{path} is not anchor {anchor.id} as the database holds it: one of the "
                        f"two was altered; run `flask audit verify --anchor {path}`")
            unchanged += 1
            continue
        write_atomically(path, lambda out: out.write(text))
        written.append(path)
    return AnchorExport(written, unchanged)


def anchor_and_export(directory: str | None = None) -> AnchorRun:
    """The daily anchoring step: sign every stream's head, commit, export the anchors.
    Plain and idempotent enough for a scheduler: each call adds one anchor and writes the files
    that are missing (a run that failed after committing is completed by the next)."""
    directory = directory or anchor_dir()
    anchor = make_anchor()
    db.session.commit()
    export = export_anchors(directory)
    return AnchorRun(anchor, anchor_path(directory, anchor.id), export)
