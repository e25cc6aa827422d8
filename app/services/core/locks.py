"""Database leases for single-runner work, on SQLite and PostgreSQL alike.

A lease row per name: taking it is one INSERT, or one UPDATE that succeeds only when the lease
expired (a crashed holder never blocks forever). Holders renew long work with `renew`.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.models.locks import JobLock
from app.services.core.clock import now_utc

HOLDER_PREFIX = f"{socket.gethostname()}:{os.getpid()}"


class LockBusy(Exception):
    pass


def try_acquire(session_factory: sessionmaker[Session], name: str, ttl: dt.timedelta) -> str | None:
    holder = f"{HOLDER_PREFIX}:{uuid.uuid4().hex[:8]}"
    now = now_utc()
    with session_factory() as s:
        try:
            s.execute(insert(JobLock).values(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
            s.commit()
            return holder
        except IntegrityError:
            s.rollback()
        taken = s.execute(
            update(JobLock).where(JobLock.name == name, JobLock.expires_at < now)
            .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        ).rowcount
        s.commit()
        return holder if taken == 1 else None


def renew(session_factory: sessionmaker[Session], name: str, holder: str, ttl: dt.timedelta) -> bool:
    with session_factory() as s:
        n = s.execute(update(JobLock).where(JobLock.name == name, JobLock.holder == holder)
                      .values(expires_at=now_utc() + ttl)).rowcount
        s.commit()
        return n == 1


def release(session_factory: sessionmaker[Session], name: str, holder: str) -> None:
    with session_factory() as s:
        s.execute(delete(JobLock).where(JobLock.name == name, JobLock.holder == holder))
        s.commit()


@contextmanager
def held(session_factory: sessionmaker[Session], name: str, ttl: dt.timedelta = dt.timedelta(minutes=30)
         ) -> Iterator[str]:
    """Hold the lease for the block, or raise LockBusy at once if someone else holds it."""
    holder = try_acquire(session_factory, name, ttl)
    if holder is None:
        raise LockBusy(name)
    try:
        yield holder
    finally:
        release(session_factory, name, holder)


@contextmanager
def held_with_heartbeat(session_factory: sessionmaker[Session], name: str,
                        ttl: dt.timedelta = dt.timedelta(minutes=2)) -> Iterator[str]:
    """Like `held`, for long work: a thread renews the lease every ttl/4 while the block runs.

    A killed process stops renewing, so its lease expires within `ttl` and the work can resume.
    """
    import threading

    with held(session_factory, name, ttl) as holder:
        stop = threading.Event()

        def beat():
            while not stop.wait(ttl.total_seconds() / 4):
                renew(session_factory, name, holder, ttl)

        thread = threading.Thread(target=beat, name=f"lease:{name}", daemon=True)
        thread.start()
        try:
            yield holder
        finally:
            stop.set()
            thread.join(timeout=5)
