"""Rows that make the security checks work across processes: login throttling and inbound replay.

Both live in the database because every web worker (gunicorn processes, waitress threads) and the
CLI already share it; a counter in one process's memory would let an attacker spread guesses over
the workers.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class LoginThrottle(Base):
    """Failed logins of one account name or one client address (the key is a SHA-256, never the text).

    `failures` counts the failures since `window_started_at`; after a quiet window it starts over.
    `locked_until` is set when the failures reach the lockout threshold.
    """

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("kind", "key_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # account | address
    key_hash: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(index=True)  # old rows are pruned by it
    locked_until: Mapped[dt.datetime | None]


class InboundSignature(Base):
    """A signature already accepted on the inbound customer endpoint: the same one again is a replay.

    Rows older than the replay window are useless (the timestamp check refuses those requests
    anyway) and are deleted as new ones arrive.
    """

    __tablename__ = "commerce_inbound_signatures"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
