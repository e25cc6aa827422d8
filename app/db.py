"""Engine and session factory. One sessionmaker per engine per process; nothing built at import."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

WRITE_OPTION = "creditdesk_writes"  # SQLite: BEGIN IMMEDIATE (ignored elsewhere)
_TX_KIND = "creditdesk_sqlite_tx"  # SQLite: "reader" (deferred BEGIN, nothing written yet) or "writer"
# A SAVEPOINT counts as a write: the upgrade's COMMIT would release it.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "CREATE", "DROP", "ALTER")


def make_engine(url: str, echo: bool = False, **kwargs) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        _create_private_sqlite_file(url)
        connect_args = kwargs.pop("connect_args", {})
        # Web workers, scheduler threads and the CLI share the file: wait for locks instead of failing.
        connect_args.setdefault("timeout", 30)
        connect_args.setdefault("check_same_thread", False)
        if make_url(url).database in (None, "", ":memory:"):
            # An in-memory database lives in one connection (SingletonThreadPool): no pool to size.
            kwargs.pop("pool_size", None)
            kwargs.pop("max_overflow", None)
        engine = create_engine(url, echo=echo, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let the driver's own BEGIN be replaced by ours so that BEGIN IMMEDIATE works for locks.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "checkout")
        def _sqlite_checkout(dbapi_conn, _record, _proxy):
            # A pool reset may have restored the driver's implicit transactions; we issue BEGIN ourselves.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            options = conn.get_execution_options()
            if options.get("isolation_level") == "AUTOCOMMIT":
                return  # each statement is its own transaction (used by tests to read like READ COMMITTED)
            # A deferred transaction that reads then writes can deadlock with another writer ("database is
            # locked" at once, no waiting); units of work that write take the write lock up front instead.
            writer = bool(options.get(WRITE_OPTION))
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")
            conn.connection.info[_TX_KIND] = "writer" if writer else "reader"

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _sqlite_end(conn):
            conn.connection.info.pop(_TX_KIND, None)

        @event.listens_for(engine, "before_cursor_execute")
        def _sqlite_upgrade(conn, cursor, statement, parameters, context, executemany):
            # A deferred transaction that has read cannot become a writer once another connection wrote
            # (WAL: "database is locked" at once, no busy wait). Request sessions start deferred, so
            # their first write ends the read-only part and starts over with BEGIN IMMEDIATE, which
            # waits for the lock: the READ COMMITTED behaviour these views get on PostgreSQL.
            info = conn.connection.info
            if info.get(_TX_KIND) == "reader" and statement.lstrip()[:9].upper().startswith(_WRITES):
                raw = conn.connection.dbapi_connection
                raw.execute("COMMIT")  # nothing written yet: this only releases the read snapshot
                raw.execute("BEGIN IMMEDIATE")
                info[_TX_KIND] = "writer"

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, echo=echo, **kwargs)


def _create_private_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 before SQLite does (it would use 0644 under the usual umask): it holds
    personal data and secrets. SQLite gives its -wal and -shm files the database file's permissions."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    if os.path.exists(path):
        return
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process created it first
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: views render objects after the service committed.
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A short unit of work that writes: commit on success, roll back on any error, always close."""
    session = session_factory()
    begin_writing(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def begin_writing(session: Session) -> None:
    """Start the session's transaction as a writer (SQLite: BEGIN IMMEDIATE; waits for the lock)."""
    session.connection(execution_options={WRITE_OPTION: True})


def hold_write_lock(session: Session) -> None:
    """SQLite: make the session's transaction a writer now (BEGIN IMMEDIATE, waiting for other
    writers), so what it reads next cannot change before it commits. A no-op on PostgreSQL, where
    row locks do this work. The statement writes nothing; being a write is what starts the upgrade."""
    if not is_postgres(session):
        session.execute(text("DELETE FROM job_locks WHERE 1 = 0"))


def lock_for_update(session: Session, model, row_id: int):
    """The row, fresh and locked until the transaction ends: a read-modify-write of money or status
    on it is serialised on both databases (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the database
    write lock, taken before the read). None when the row does not exist."""
    stmt = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    if is_postgres(session):
        return session.scalar(stmt.with_for_update())
    hold_write_lock(session)
    return session.scalar(stmt)
