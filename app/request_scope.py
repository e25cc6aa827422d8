"""What a web or API request works with: the wired services and one database session per request.

The request owns its transaction, in one place: `commit_request` runs when the view returned
(called by the app's dispatch), `rollback_request` when a DomainError reached a handler, and
`close_request` at teardown rolls back whatever nobody committed (an exception, an abort). Views
and API functions never commit nor roll back; services that call the bureau keep opening short
transactions of their own with `app.db.transaction`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.bootstrap import Services

_FLUSHED = "creditdesk_request_flushed"


def services() -> Services:
    return current_app.extensions["credit_desk"]


def db_session() -> Session:
    """One session per request; the request scope commits it, rolls it back and closes it."""
    if "db_session" not in g:
        # Deferred (plain BEGIN): views often read here, then call services that write in their own
        # short transactions; holding SQLite's write lock for the whole request would block them.
        session = services().session_factory()
        event.listen(session, "after_flush", _remember_flush)
        g.db_session = session
    return g.db_session


def _remember_flush(session: Session, _flush_context) -> None:
    # end_snapshot() must never throw away what the request already wrote.
    session.info[_FLUSHED] = True


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` right after the request's commit (never when the request fails).

    For work that must see the committed rows from other sessions, e.g. sending the bureau removal
    just after the payment that requires it is committed (rule 9 (removal after full payment))."""
    g.setdefault("after_commit", []).append(callback)


def discard_writes() -> None:
    """This request only simulates: what it wrote is rolled back at the end instead of committed."""
    g.discard_writes = True


def end_snapshot() -> None:
    """Start the request session's next read in a new transaction.

    Used before a service that must open the transaction itself (its lock first, e.g. a credit
    account's), and before reading rows that a service committed in sessions of its own (SQLite
    keeps a transaction's snapshot). Only legal while the request has written nothing."""
    session = g.get("db_session")
    if session is None:
        return
    if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED):
        raise RuntimeError("end_snapshot() would discard what this request wrote")
    session.rollback()


def commit_request() -> None:
    """The view returned: commit its work (or drop it, for a simulation), then the after-commit work."""
    session = g.get("db_session")
    callbacks = g.pop("after_commit", [])
    if session is not None:
        if g.pop("discard_writes", False):
            session.rollback()
            return
        session.commit()
        session.info.pop(_FLUSHED, None)
    for callback in callbacks:
        callback()


def rollback_request() -> None:
    """A DomainError ends the request: nothing it wrote is kept and no after-commit work runs."""
    g.pop("after_commit", None)
    session = g.get("db_session")
    if session is not None:
        session.rollback()
        session.info.pop(_FLUSHED, None)


def close_request(exc: BaseException | None = None) -> None:
    """Teardown: roll back what nobody committed and give the connection back to the pool."""
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.rollback()
        finally:
            session.close()
