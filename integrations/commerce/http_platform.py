"""HttpCommercePlatform: the real adapter (requests), with explicit timeouts and signed bodies.

Retries are not done here: the outbox job retries later with backoff (next_attempt_at), so one
attempt is one row of the delivery log.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from .port import DeliveryResult
from .signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

# Connection errors, timeouts, 408, 425, 429 and 5xx may succeed later; other 4xx will not.
RETRYABLE_STATUSES = {408, 425, 429}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


class HttpCommercePlatform:
    def __init__(self, *, connect_timeout: float = 3.05, read_timeout: float = 10.0,
                 session: requests.Session | None = None, clock=time.time):
        self._timeouts = (connect_timeout, read_timeout)
        self._session = session or requests.Session()
        self._clock = clock

    def send_update(self, url: str, secret: str, payload: dict[str, Any], *, idempotency_key: str
                    ) -> DeliveryResult:
        sent_at = int(self._clock())
        body = encode({**payload, "sent_at": sent_at})
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: signature(secret, body),
            TIMESTAMP_HEADER: str(sent_at),
            IDEMPOTENCY_HEADER: idempotency_key,
            "User-Agent": "credit-desk/commerce-outbox",
        }
        started = time.monotonic()
        try:
            resp = self._session.post(url, data=body, headers=headers, timeout=self._timeouts)
        except requests.Timeout:
            return DeliveryResult(False, None, _ms(started), "Tempo esgotado aguardando a plataforma.")
        except requests.RequestException as exc:
            return DeliveryResult(False, None, _ms(started), f"Falha de conexão: {type(exc).__name__}")
        duration = _ms(started)
        if 200 <= resp.status_code < 300:
            return DeliveryResult(True, resp.status_code, duration)
        retryable = resp.status_code >= 500 or resp.status_code in RETRYABLE_STATUSES
        detail = resp.text[:200].strip()
        return DeliveryResult(False, resp.status_code, duration,
                              f"HTTP {resp.status_code}" + (f": {detail}" if detail else ""), retryable)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
