"""Stripe's webhook signature scheme (t=<unix>,v1=<hmac-sha256 of "t.payload">), used to sign and
verify the sandbox provider's events exactly as Stripe's are."""
from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header value for `payload`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(payload: bytes, header: str | None, secret: str, now: float | None = None) -> bool:
    """True when one v1 signature in `header` matches and the timestamp is recent."""
    if not header or not secret:
        return False
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = sign(payload, secret, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")
