"""OAuth2 client credentials: client check and the bearer tokens the simulator has issued."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Mapping


def client_matches(clients: Mapping[str, str], client_id: str, client_secret: str) -> bool:
    expected = clients.get(client_id)
    # Compare even for unknown clients, so timing does not reveal which ids exist.
    return hmac.compare_digest((expected or "").encode(), client_secret.encode()) and expected is not None


class TokenRegistry:
    def __init__(self, clock=time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def issue(self, ttl_s: float) -> str:
        token = secrets.token_urlsafe(32)
        current = self._clock()
        with self._lock:
            # Forget expired tokens so a long demo does not grow the table forever.
            self._expiry = {known: until for known, until in self._expiry.items() if until > current}
            self._expiry[token] = current + ttl_s
        return token

    def is_valid(self, token: str) -> bool:
        with self._lock:
            until = self._expiry.get(token)
        return until is not None and until > self._clock()

    def clear(self) -> None:
        with self._lock:
            self._expiry.clear()
