"""What a web or API request works with: the wired services and one database session per request."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from app.bootstrap import Services


def services() -> Services:
    return current_app.extensions["credit_desk"]


def db_session() -> Session:
    """One session per request, closed at teardown (rolled back if nothing committed it)."""
    if "db_session" not in g:
        # Deferred (plain BEGIN): views often read here, then call services that write in their own
        # short transactions; holding SQLite's write lock for the whole request would block them.
        g.db_session = services().session_factory()
    return g.db_session
