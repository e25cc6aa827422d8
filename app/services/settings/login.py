"""A login attempt: throttling, password check, weak-password flag and audit, in one short transaction.

The transaction starts as a writer (SQLite: BEGIN IMMEDIATE; PostgreSQL: the throttle rows are
locked FOR UPDATE), so two workers counting failures for the same key never lose one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.models import User
from app.services.core import audit
from app.services.settings import login_throttle as throttle
from app.services.settings.passwords import meets_policy
from app.services.settings.users import authenticate


@dataclass(frozen=True)
class LoginResult:
    status: str  # ok | invalid | throttled
    user: User | None = None
    retry_after_s: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def attempt_login(session_factory: sessionmaker[Session], username: str, password: str, address: str | None,
                  *, now: dt.datetime | None = None) -> LoginResult:
    keys = {"account": throttle.account_key(username), "address": (address or "desconhecido")[:64]}
    with transaction(session_factory) as s:
        verdict = throttle.check(s, keys, now=now)
        if not verdict.allowed:
            return LoginResult("throttled", retry_after_s=verdict.retry_after_s)
        user = authenticate(s, username, password)
        if user is None:
            throttle.record_failure(s, keys, now=now)
            return LoginResult("invalid")
        throttle.record_success(s, username)
        # Only now is the clear password at hand: one stored before the policy existed is flagged,
        # and the web asks for a new one before anything else.
        if not meets_policy(password, username=user.username, name=user.name, email=user.email):
            user.must_change_password = True
        audit.record(s, audit.Actor.for_user(user), "auth.login", "user", user.id, summary="Login")
        s.flush()
        return LoginResult("ok", user=user)
