"""The signature of outbound events: HMAC-SHA256 over "<timestamp>.<raw body>" (docs/events.md).

Headers of every delivery:
    X-CreditDesk-Event-Id:   evt_<32 hex>, the same for every attempt (receivers deduplicate on it)
    X-CreditDesk-Event-Type: e.g. negativation.accepted
    X-CreditDesk-Timestamp:  Unix seconds when this attempt was signed
    X-CreditDesk-Signature:  v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>

Signing the timestamp with the body lets a receiver refuse a replay of an old, correctly signed
request (outside MAX_SKEW_S), which signing the body alone would not. The receiver may hold
several secrets while one is rotated: any v1 matching any of them is valid.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

EVENT_ID_HEADER = "X-CreditDesk-Event-Id"
EVENT_TYPE_HEADER = "X-CreditDesk-Event-Type"
TIMESTAMP_HEADER = "X-CreditDesk-Timestamp"
SIGNATURE_HEADER = "X-CreditDesk-Signature"
SCHEME = "v1"
MAX_SKEW_S = 300


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={mac}"


def verify(secrets: Iterable[str], timestamp: str | None, body: bytes, header_value: str | None, *,
           now: float | None = None, max_skew_s: int = MAX_SKEW_S) -> str | None:
    """None when the request is authentic and fresh; otherwise why not (for the receiver's log)."""
    try:
        sent = int(timestamp or "")
    except ValueError:
        return "missing or invalid timestamp"
    if abs((now if now is not None else time.time()) - sent) > max_skew_s:
        return "timestamp outside the tolerance (replay?)"
    given = [part.strip() for part in (header_value or "").split(",") if part.strip().startswith(f"{SCHEME}=")]
    if not given:
        return "missing signature"
    for secret in secrets:
        expected = signature(secret, sent, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in given):
            return None
    return "signature does not match"
