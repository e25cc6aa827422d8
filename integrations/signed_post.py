"""One signed JSON POST per attempt, shared by the two outbound deliveries (the commerce platform's
status/limit updates and the ISP's event endpoints): explicit timeouts, redirects not followed, and
one verdict per attempt on whether a retry could help.

Retries are not done here: each outbox retries later with backoff (next_attempt_at), so one attempt
is one row of its delivery log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from .post_result import PostResult

# Timeouts, connection errors, 408, 425, 429 and 5xx may pass later; other 4xx will not.
RETRYABLE_STATUSES = {408, 425, 429}


def encode(payload: dict[str, Any]) -> bytes:
    """The body as sent and signed: compact JSON, keys sorted, UTF-8 (identical on every attempt)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


class SignedPoster:
    """The HTTP half of an outbound adapter; the adapter builds the body and its signed headers."""

    def __init__(self, *, user_agent: str, timeout_message: str, connect_timeout: float = 3.05,
                 read_timeout: float = 10.0, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time):
        self._user_agent = user_agent
        self._timeout_message = timeout_message
        self._timeouts = (connect_timeout, read_timeout)
        self._session = session or requests.Session()
        self.clock = clock

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> PostResult:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": self._user_agent,
                   **headers}
        started = time.monotonic()
        try:
            # A redirect would resend personal data to a place nobody configured: not followed.
            resp = self._session.post(url, data=body, headers=headers, timeout=self._timeouts,
                                      allow_redirects=False)
        except requests.Timeout:
            return PostResult(False, None, _ms(started), self._timeout_message)
        except requests.RequestException as exc:
            return PostResult(False, None, _ms(started), f"Falha de conexão: {type(exc).__name__}")
        duration = _ms(started)
        if 200 <= resp.status_code < 300:
            return PostResult(True, resp.status_code, duration)
        retryable = resp.status_code >= 500 or resp.status_code in RETRYABLE_STATUSES
        detail = resp.text[:200].strip()
        return PostResult(False, resp.status_code, duration,
                          f"HTTP {resp.status_code}" + (f": {detail}" if detail else ""), retryable)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
