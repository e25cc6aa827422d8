"""The bureau access token cached in the integration row, shared by every process.

refresh_lock() takes a write lock on the integration row (an UPDATE that changes nothing: a row
lock on PostgreSQL, the database write lock on SQLite), so that across web workers, the scheduler
and the CLI only one of them asks the bureau for a new token per expiry window; the others wait,
then read the token it saved.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from app.models import BureauIntegration
from integrations.bureau import AccessToken

from .crypto import SecretBox

_table = BureauIntegration.__table__


class DbTokenStore:
    def __init__(self, engine: Engine, box: SecretBox, integration_id: int):
        self._engine = engine
        self._box = box
        self._id = integration_id
        self._local = threading.local()

    def _locked_conn(self) -> Connection | None:
        return getattr(self._local, "conn", None)

    def _read(self, conn: Connection) -> AccessToken | None:
        row = conn.execute(
            select(_table.c.access_token_encrypted, _table.c.token_expires_at).where(_table.c.id == self._id)
        ).first()
        if row is None or not row.access_token_encrypted or row.token_expires_at is None:
            return None
        # Core select of the typed column: UTCDateTime already returns an aware instant.
        return AccessToken(value=self._box.decrypt(row.access_token_encrypted), expires_at=row.token_expires_at)

    def load(self) -> AccessToken | None:
        conn = self._locked_conn()
        if conn is not None:
            return self._read(conn)
        with self._engine.connect() as fresh:
            return self._read(fresh)

    def save(self, token: AccessToken) -> None:
        stmt = (
            update(_table)
            .where(_table.c.id == self._id)
            .values(access_token_encrypted=self._box.encrypt(token.value), token_expires_at=token.expires_at)
        )
        conn = self._locked_conn()
        if conn is not None:
            conn.execute(stmt)
            return
        with self._engine.begin() as fresh:
            fresh.execute(stmt)

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        if self._locked_conn() is not None:  # re-entrant within one thread
            yield
            return
        with self._engine.begin() as conn:
            conn.execute(update(_table).where(_table.c.id == self._id).values(id=_table.c.id))
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None
