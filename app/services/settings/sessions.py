"""Server-side session revocation with a per-user session version.

The signed session cookie holds "<user id>:<session version>" (User.get_id). Every request loads
the user and compares the version; raising it ends every session of that user at once, on every
browser and worker, including a cookie copied before the logout. The cookie stays signed and
stateless: one integer column is all the server keeps.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import User
from app.services.core.ids import as_id


def user_for_session(session: Session, session_user_id: str | None) -> User | None:
    """The user a session cookie names, or None when the session was ended or is malformed."""
    raw_id, sep, raw_version = (session_user_id or "").partition(":")
    user_id = as_id(raw_id)
    # ASCII digits only: "²".isdigit() is true and int("²") a ValueError.
    if not sep or user_id is None or not (raw_version.isascii() and raw_version.isdigit()):
        return None  # includes cookies issued before session versions existed
    user = session.get(User, user_id)
    if user is None or not user.active or (user.session_version or 0) != int(raw_version):
        return None
    return user


def end_all_sessions(user: User) -> None:
    """Every session issued so far for the user stops working at its next request."""
    user.session_version = (user.session_version or 0) + 1
