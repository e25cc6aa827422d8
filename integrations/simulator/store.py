"""The simulator's negativations and idempotency keys, in SQLite (in memory or in a file).

One connection guarded by one lock: the server is multithreaded, and each operation (look up the
key, insert, record the answer) must be atomic so two requests with the same Idempotency-Key
can never create two protocols.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .clock import iso_instant

_SCHEMA = """
CREATE TABLE IF NOT EXISTS negativations (
    protocol TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    document_type TEXT NOT NULL,
    creditor_cnpj TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    activates_at REAL NOT NULL,
    notice_until TEXT NOT NULL,
    removed_at REAL,
    removal_reason TEXT
);
CREATE TABLE IF NOT EXISTS negativation_titles (
    protocol TEXT NOT NULL REFERENCES negativations (protocol),
    creditor_cnpj TEXT NOT NULL,
    number TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_negativation_titles_creditor_number
    ON negativation_titles (creditor_cnpj, number);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
"""

CREATE_SCOPE = "negativation"
REMOVAL_SCOPE = "removal"


@dataclass(frozen=True)
class NewNegativation:
    document: str
    document_type: str
    creditor_cnpj: str
    title_numbers: tuple[str, ...]
    payload_json: str
    created_at: float
    activates_at: float
    notice_until: str


@dataclass(frozen=True)
class NegativationRecord:
    protocol: str
    document: str
    document_type: str
    creditor_cnpj: str
    created_at: float
    activates_at: float
    notice_until: str
    removed_at: float | None
    removal_reason: str | None


@dataclass(frozen=True)
class DuplicateTitle:
    """A title sent again while an earlier negativation of it was still not removed."""

    creditor_cnpj: str
    number: str
    protocol: str
    earlier_protocols: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    # created | replayed | conflict | removed | not_found
    kind: str
    body: dict[str, Any] | None = None
    duplicates: tuple[DuplicateTitle, ...] = ()


def new_protocol(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16].upper()}"


def removal_body(record: NegativationRecord) -> dict[str, Any]:
    assert record.removed_at is not None
    return {"protocol": record.protocol, "status": "removed", "removed_at": iso_instant(record.removed_at)}


class Store:
    def __init__(self, path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path or ":memory:", check_same_thread=False, timeout=10)
        with self._lock, self._conn:
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection under the store's lock, in one transaction (for `divergence`'s controls)."""
        with self._lock, self._conn:
            yield self._conn

    def reset(self) -> None:
        with self._lock, self._conn:
            for table in ("negativation_titles", "negativations", "idempotency_keys"):
                self._conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def count_negativations(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM negativations").fetchone()[0]

    def _idempotent_answer(self, scope: str, key: str, fingerprint: str) -> Outcome | None:
        row = self._conn.execute(
            "SELECT fingerprint, body FROM idempotency_keys WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        if row is None:
            return None
        if row[0] != fingerprint:
            return Outcome("conflict")
        return Outcome("replayed", json.loads(row[1]))

    def _remember(self, scope: str, key: str, fingerprint: str, body: dict[str, Any]) -> None:
        self._conn.execute(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, body) VALUES (?, ?, ?, ?)",
            (scope, key, fingerprint, json.dumps(body)),
        )

    def idempotent_answer(self, scope: str, key: str, fingerprint: str) -> Outcome | None:
        """The earlier answer for this key (replayed or conflict), or None if the key is new."""
        with self._lock:
            return self._idempotent_answer(scope, key, fingerprint)

    def create_negativation(self, key: str, fingerprint: str, new: NewNegativation) -> Outcome:
        with self._lock, self._conn:
            earlier = self._idempotent_answer(CREATE_SCOPE, key, fingerprint)
            if earlier is not None:
                return earlier
            protocol = new_protocol("N")
            duplicates = []
            for number in new.title_numbers:
                rows = self._conn.execute(
                    "SELECT t.protocol FROM negativation_titles t JOIN negativations n"
                    " ON n.protocol = t.protocol"
                    " WHERE t.creditor_cnpj = ? AND t.number = ? AND n.removed_at IS NULL",
                    (new.creditor_cnpj, number),
                ).fetchall()
                if rows:
                    earlier_protocols = tuple(row[0] for row in rows)
                    duplicates.append(DuplicateTitle(new.creditor_cnpj, number, protocol, earlier_protocols))
            self._conn.execute(
                "INSERT INTO negativations (protocol, document, document_type, creditor_cnpj, payload,"
                " created_at, activates_at, notice_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    protocol,
                    new.document,
                    new.document_type,
                    new.creditor_cnpj,
                    new.payload_json,
                    new.created_at,
                    new.activates_at,
                    new.notice_until,
                ),
            )
            self._conn.executemany(
                "INSERT INTO negativation_titles (protocol, creditor_cnpj, number) VALUES (?, ?, ?)",
                [(protocol, new.creditor_cnpj, number) for number in new.title_numbers],
            )
            body = {"protocol": protocol, "status": "notice", "notice_until": new.notice_until}
            self._remember(CREATE_SCOPE, key, fingerprint, body)
            return Outcome("created", body, tuple(duplicates))

    def _get(self, protocol: str) -> NegativationRecord | None:
        row = self._conn.execute(
            "SELECT protocol, document, document_type, creditor_cnpj, created_at, activates_at,"
            " notice_until, removed_at, removal_reason FROM negativations WHERE protocol = ?",
            (protocol,),
        ).fetchone()
        return NegativationRecord(*row) if row else None

    def get_negativation(self, protocol: str) -> NegativationRecord | None:
        with self._lock:
            return self._get(protocol)

    def remove_negativation(
        self, key: str, fingerprint: str, protocol: str, reason: str, removed_at: float
    ) -> Outcome:
        with self._lock, self._conn:
            earlier = self._idempotent_answer(REMOVAL_SCOPE, key, fingerprint)
            if earlier is not None and earlier.kind == "conflict":
                return earlier
            record = self._get(protocol)
            if record is None:
                return Outcome("not_found")
            if record.removed_at is not None:
                # Removing twice is harmless: answer the first removal again, whatever the key.
                if earlier is None:
                    self._remember(REMOVAL_SCOPE, key, fingerprint, removal_body(record))
                return Outcome("replayed", removal_body(record))
            self._conn.execute(
                "UPDATE negativations SET removed_at = ?, removal_reason = ? WHERE protocol = ?",
                (removed_at, reason, protocol),
            )
            body = removal_body(self._get(protocol))  # type: ignore[arg-type]
            self._remember(REMOVAL_SCOPE, key, fingerprint, body)
            return Outcome("removed", body)
