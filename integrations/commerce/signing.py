"""HMAC signing between credit-desk and the commerce platform, shared by the adapter, the app and the simulator.

Outbound (credit-desk → platform, JSON): the body is signed as sent:
`X-Signature: sha256=<hex HMAC-SHA256(secret, body)>`. The body carries `sent_at` (Unix seconds),
repeated in the `X-Timestamp` header, so a receiver can refuse replays of an old, correctly signed body.

Inbound (platform → credit-desk, customer XML): the XML has no place for a timestamp, so the
signature covers the timestamp and the body: `X-Signature: sha256=<hex HMAC-SHA256(secret,
"<X-Timestamp>." + body)>` (docs/commerce-xml.md has a worked example).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_SKEW_S = 300


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header_value: str | None) -> bool:
    """Constant-time comparison of the received signature with the expected one."""
    return bool(header_value) and hmac.compare_digest(signature(secret, body), header_value or "")


def inbound_mac(secret: str, timestamp: str):
    """An HMAC already fed with the timestamp part; `update()` it with the body as it streams in."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode(), hashlib.sha256)


def inbound_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = inbound_mac(secret, timestamp)
    mac.update(body)
    return "sha256=" + mac.hexdigest()


def inbound_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The headers a sender of customer XML adds (the platform; the simulator and tests)."""
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: inbound_signature(secret, timestamp, body)}


def fresh(timestamp: str | None, *, now: float | None = None, max_skew_s: int = MAX_SKEW_S) -> bool:
    try:
        sent = int(timestamp or "")
    except ValueError:
        return False
    return abs((now if now is not None else time.time()) - sent) <= max_skew_s
