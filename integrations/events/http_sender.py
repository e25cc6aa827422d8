"""HttpEventSender: one signed POST per attempt, explicit timeouts, redirects not followed.

Retries are the outbox's (next_attempt_at with backoff), so one call is one row of the delivery log.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from .port import SendResult
from .signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

# Timeouts, connection errors, 408, 425, 429 and 5xx may pass later; other 4xx will not.
RETRYABLE_STATUSES = {408, 425, 429}


def encode(payload: dict[str, Any]) -> bytes:
    """The body as sent and signed: compact JSON, keys sorted, UTF-8 (identical on every attempt)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


class HttpEventSender:
    def __init__(self, *, connect_timeout: float = 3.05, read_timeout: float = 10.0,
                 session: requests.Session | None = None, clock=time.time):
        self._timeouts = (connect_timeout, read_timeout)
        self._session = session or requests.Session()
        self._clock = clock

    def send(self, url: str, secret: str, event_id: str, event_type: str, payload: dict[str, Any]) -> SendResult:
        body = encode(payload)
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "credit-desk/events",
            EVENT_ID_HEADER: event_id,
            EVENT_TYPE_HEADER: event_type,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        }
        started = time.monotonic()
        try:
            # A redirect would resend personal data to a place nobody configured: not followed.
            resp = self._session.post(url, data=body, headers=headers, timeout=self._timeouts,
                                      allow_redirects=False)
        except requests.Timeout:
            return SendResult(False, None, _ms(started), "Tempo esgotado aguardando o destino.")
        except requests.RequestException as exc:
            return SendResult(False, None, _ms(started), f"Falha de conexão: {type(exc).__name__}")
        duration = _ms(started)
        if 200 <= resp.status_code < 300:
            return SendResult(True, resp.status_code, duration)
        retryable = resp.status_code >= 500 or resp.status_code in RETRYABLE_STATUSES
        detail = resp.text[:200].strip()
        return SendResult(False, resp.status_code, duration,
                          f"HTTP {resp.status_code}" + (f": {detail}" if detail else ""), retryable)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
