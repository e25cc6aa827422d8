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
        self._owner: dict[str, str] = {}

    def issue(self, ttl_s: float, client_id: str = "") -> str:
        token = secrets.token_urlsafe(32)
        current = self._clock()
        with self._lock:
            # Forget expired tokens so a long demo does not grow the table forever.
            self._expiry = {known: until for known, until in self._expiry.items() if until > current}
            self._owner = {known: owner for known, owner in self._owner.items() if known in self._expiry}
            self._expiry[token] = current + ttl_s
            self._owner[token] = client_id
        return token

    def revoke_client(self, client_id: str) -> int:
        """Invalidate every token issued to `client_id` (its secret was rotated); returns how many."""
        with self._lock:
            gone = [token for token, owner in self._owner.items() if owner == client_id]
            for token in gone:
                self._expiry.pop(token, None)
                self._owner.pop(token, None)
        return len(gone)

    def is_valid(self, token: str) -> bool:
        with self._lock:
            until = self._expiry.get(token)
        return until is not None and until > self._clock()

    def clear(self) -> None:
        with self._lock:
            self._expiry.clear()
            self._owner.clear()
