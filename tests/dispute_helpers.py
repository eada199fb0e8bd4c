"""Helpers for dispute tests: real file bytes, queues with members, raising through services."""
from __future__ import annotations

import io

from PIL import Image

from portal.disputes import routing, services
from portal.disputes.models import DisputeQueue, StaffLanguage
from portal.extensions import db
from tests.helpers import csrf_token

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buf, "JPEG")
    return buf.getvalue()


def queue(code: str) -> DisputeQueue:
    """The queue by code (default queues created and committed on first use)."""
    found = routing.ensure_defaults()[code]
    db.session.commit()
    return found


def join(code: str, staff, *languages) -> DisputeQueue:
    """Put staff in a queue with the languages they speak (committed)."""
    q = queue(code)
    routing.set_membership(q, staff, True)
    for language in languages or ("en",):
        if db.session.get(StaffLanguage, (staff.id, language)) is None:
            db.session.add(StaffLanguage(staff_id=staff.id, language=language))
    db.session.commit()
    return q


def raise_dispute(account, category="wrong_amount", amount=10_000, entry_ids=(), files=(),
                  description="The fee is wrong."):
    dispute = services.raise_dispute(account.cardholder, account, category=category,
                                     amount=amount, entry_ids=list(entry_ids),
                                     description=description, files=files)
    db.session.commit()
    return dispute


def csrf(client, path="/login") -> str:
    return csrf_token(client, path, follow_redirects=True)
