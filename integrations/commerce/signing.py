"""HMAC signing of the JSON updates sent to the commerce platform, shared by the adapter and the simulator.

The body is signed as sent: `X-Signature: sha256=<hex HMAC-SHA256(secret, body)>`. The body carries
`sent_at` (Unix seconds), repeated in the `X-Timestamp` header, so a receiver can refuse replays
of an old, correctly signed body.
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


def fresh(timestamp: str | None, *, now: float | None = None, max_skew_s: int = MAX_SKEW_S) -> bool:
    try:
        sent = int(timestamp or "")
    except ValueError:
        return False
    return abs((now if now is not None else time.time()) - sent) <= max_skew_s
