"""Hardship proof documents as the document store knows them (for `documents move-to-store`)."""
from __future__ import annotations

from sqlalchemy import select

from portal.core.storage_move import KnownDocument
from portal.extensions import db
from portal.plans.models import ProofDocument


def stored_documents():
    """Every proof document the store should hold, with the size and SHA-256 recorded at upload."""
    rows = db.session.execute(select(ProofDocument.stored_name, ProofDocument.content_type,
                                     ProofDocument.size_bytes, ProofDocument.sha256)
                              .order_by(ProofDocument.id))
    for key, content_type, size, sha256 in rows.yield_per(1000):
        yield KnownDocument(key, content_type, size, sha256)
