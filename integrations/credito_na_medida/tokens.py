"""The client's access token: when to reuse it, when to ask for a new one, and when not to ask at all.

- Reuse: a token is renewed when the smaller of 60 s and 10% of its lifetime remains, so a short
  lifetime (20 s, 120 s) is reused too, not asked for on every call.
- One request per lifetime across processes: the shared store is read first, and a refresh runs
  under the store's refresh lock, re-reading the store once inside (another process may have just
  saved a token).
- A bureau that refuses the credentials (``invalid_client``) is asked at most once per
  ``refusal_pause_s``: the refusal is kept in the shared store and checked inside the same lock, so
  every process and thread waits instead of sending its own doomed token request. A forced refresh
  (the operator's "Testar conexão") always asks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from integrations.bureau import (
    REFRESH_MARGIN_CAP_S,
    REFRESH_MARGIN_SHARE,
    AccessToken,
    CredentialsRefused,
    TokenRefusal,
    TokenStore,
)

log = logging.getLogger("integrations.credito_na_medida.client")

REFUSAL_PAUSE_S = 60.0


class TokenKeeper:
    def __init__(
        self,
        store: TokenStore,
        request_token: Callable[[], AccessToken],
        clock: Callable[[], datetime],
        *,
        margin_cap_s: float = REFRESH_MARGIN_CAP_S,
        margin_share: float = REFRESH_MARGIN_SHARE,
        refusal_pause_s: float = REFUSAL_PAUSE_S,
    ) -> None:
        self._store = store
        self._request_token = request_token
        self._clock = clock
        self._cap = margin_cap_s
        self._share = margin_share
        self._pause = timedelta(seconds=refusal_pause_s)
        self._mine: AccessToken | None = None  # this instance's copy of the shared token

    def current(self, *, force: bool = False, stale: str | None = None) -> AccessToken:
        """The cached token, or a new one; ``stale`` is a value the bureau has just refused."""
        if not force and stale is None:
            # This instance's copy first: a shared-store read per call costs a database query.
            if self._fresh(self._mine):
                return self._mine  # type: ignore[return-value]
            cached = self._store.load()
            if self._fresh(cached):
                self._mine = cached
                return cached  # type: ignore[return-value]
            self._refuse_if_recent()  # no lock taken just to learn that the answer is still "no"
        with self._store.refresh_lock():
            # Another process may have refreshed while we waited for the lock: reuse its token.
            cached = self._store.load()
            if not force and cached is not None and cached.value != stale and self._fresh(cached):
                self._mine = cached
                return cached
            if not force:
                self._refuse_if_recent()
            now = self._clock()
            try:
                fresh = self._request_token()
            except CredentialsRefused as exc:
                self._mine = None
                self._store.save_refusal(TokenRefusal(now, exc.message))
                raise
            self._store.save(fresh)
            self._mine = fresh
            return fresh

    def _fresh(self, token: AccessToken | None) -> bool:
        return token is not None and token.is_fresh(self._clock(), self._cap, self._share)

    def _refuse_if_recent(self) -> None:
        refusal = self._store.refusal()
        if refusal is not None and self._clock() < refusal.at + self._pause:
            log.info("bureau refused these credentials at %s; not asking again yet", refusal.at.isoformat())
            raise CredentialsRefused(refusal.message or "invalid_client", cached=True, status=401,
                                     code="invalid_client")
