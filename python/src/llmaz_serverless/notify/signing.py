"""HMAC-SHA256 webhook signatures.

Header `X-Llmaz-Signature: t=<unix seconds>,v1=<hex>` where the MAC covers
`"<t>." + body`. The timestamp inside the MAC lets receivers refuse replays
of an old delivery (`verify(..., tolerance=...)`); `v1` names the scheme so a
later one can be added beside it during a secret or algorithm rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Llmaz-Signature"


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={ts},v1={signature(secret, body, ts)}"


def verify(
    secret: bytes, body: bytes, header: str, *, tolerance: float = 300.0, now: float | None = None
) -> bool:
    """True if `header` carries a v1 signature of `body` by `secret` made within `tolerance` seconds."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        ts = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    expected = signature(secret, body, ts)
    return any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", []))
