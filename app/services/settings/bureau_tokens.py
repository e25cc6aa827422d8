"""The bureau access token cached in the integration row, shared by every process.

refresh_lock() holds a database lease (`bureau-token:<integration id>`, app/services/core/locks.py) so
that across web workers, the scheduler and the CLI only one of them asks the bureau for a new token
per expiry window; the others wait, then read the token it saved. A lease, not a row lock: no
transaction stays open during the token request (on SQLite a held transaction would block every
writer of the database for as long as the bureau takes to answer, retries included). A holder that
dies leaves the lease to expire after LEASE_TTL.

A refusal of the credentials (invalid_client) is kept next to the token (`token_refused_at`), read
by the client inside the same lease: every process then waits a minute before asking again, instead
of sending one doomed token request per call (app/services/settings/bureau_breaker.py stops the calls).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from app.db import make_session_factory
from app.models import BureauIntegration
from app.services.core.crypto import SecretBox
from app.services.core.locks import release, try_acquire
from integrations.bureau import AccessToken, TokenRefusal

_table = BureauIntegration.__table__


LEASE_TTL = dt.timedelta(seconds=120)  # longer than a token request with all its attempts and waits
POLL_S = 0.05


class DbTokenStore:
    def __init__(self, engine: Engine, box: SecretBox, integration_id: int, *, lease_ttl: dt.timedelta = LEASE_TTL):
        self._engine = engine
        self._sessions = make_session_factory(engine)
        self._box = box
        self._id = integration_id
        self._lease = f"bureau-token:{integration_id}"
        self._lease_ttl = lease_ttl
        self._local = threading.local()

    def _read(self, conn: Connection) -> AccessToken | None:
        row = conn.execute(
            select(_table.c.access_token_encrypted, _table.c.token_expires_at, _table.c.token_issued_at)
            .where(_table.c.id == self._id)
        ).first()
        if row is None or not row.access_token_encrypted or row.token_expires_at is None:
            return None
        # Core select of the typed column: UTCDateTime already returns an aware instant.
        return AccessToken(value=self._box.decrypt(row.access_token_encrypted), expires_at=row.token_expires_at,
                           issued_at=row.token_issued_at)

    def load(self) -> AccessToken | None:
        with self._engine.connect() as conn:
            return self._read(conn)

    def save(self, token: AccessToken) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(_table)
                .where(_table.c.id == self._id)
                .values(access_token_encrypted=self._box.encrypt(token.value), token_expires_at=token.expires_at,
                        token_issued_at=token.issued_at, token_refused_at=None, token_refusal_message=None)
            )

    def refusal(self) -> TokenRefusal | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(_table.c.token_refused_at, _table.c.token_refusal_message)
                               .where(_table.c.id == self._id)).first()
        if row is None or row.token_refused_at is None:
            return None
        return TokenRefusal(row.token_refused_at, row.token_refusal_message or "")

    def save_refusal(self, refusal: TokenRefusal) -> None:
        # The cached token goes too: it was issued to credentials the bureau no longer accepts.
        with self._engine.begin() as conn:
            conn.execute(
                update(_table)
                .where(_table.c.id == self._id)
                .values(token_refused_at=refusal.at, token_refusal_message=(refusal.message or "")[:500],
                        access_token_encrypted=None, token_expires_at=None, token_issued_at=None)
            )

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        if getattr(self._local, "holder", None) is not None:  # re-entrant within one thread
            yield
            return
        # Threads of this process queue on a local lock first, so only one of them polls the lease.
        with _process_lock(self._engine, self._id):
            holder = try_acquire(self._sessions, self._lease, self._lease_ttl)
            while holder is None:
                time.sleep(POLL_S)  # another process is asking the bureau; its token is read after this
                holder = try_acquire(self._sessions, self._lease, self._lease_ttl)
            self._local.holder = holder
            try:
                yield
            finally:
                self._local.holder = None
                release(self._sessions, self._lease, holder)


_LOCKS: dict[tuple[int, int], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _process_lock(engine: Engine, integration_id: int) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault((id(engine), integration_id), threading.Lock())
