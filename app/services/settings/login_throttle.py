"""Login throttling per account name and per client address, shared by every web worker.

Each key (the account name typed, the client address) has a row in `login_throttles` (a SHA-256 of
the key, never the text: a password typed in the user field must not end up stored). After a few
free failures, each further attempt must wait a delay that doubles with every failure; at the
lockout threshold the key is locked for a while and an audit event is written. A refused attempt is
not counted, so hammering a locked key does not extend the lock, and it costs no password hash.

The account key is the name typed, whether or not such a user exists: an unknown name is throttled
and locked exactly like a real one, so neither the timing nor the message tells which names exist.
A successful login clears its account's counter but not its address's (otherwise one valid account
would let an attacker reset the address counter between guesses at other accounts).

The rows live in the database because it is the one store every process already shares (gunicorn
workers, waitress threads, the CLI); see docs/security.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import LoginThrottle, User
from app.services.core import audit
from app.services.core.clock import now_utc


@dataclass(frozen=True)
class ThrottleRule:
    free_failures: int  # failures answered without any delay
    lock_after: int  # failures that lock the key
    lock_for: dt.timedelta
    max_delay: dt.timedelta
    window: dt.timedelta  # a key quiet for this long starts over


# An office behind one NAT address shares the address counter, so it gets more room than an account.
ACCOUNT = ThrottleRule(free_failures=3, lock_after=10, lock_for=dt.timedelta(minutes=15),
                       max_delay=dt.timedelta(minutes=1), window=dt.timedelta(minutes=15))
ADDRESS = ThrottleRule(free_failures=10, lock_after=50, lock_for=dt.timedelta(minutes=15),
                       max_delay=dt.timedelta(seconds=30), window=dt.timedelta(minutes=15))
RULES = {"account": ACCOUNT, "address": ADDRESS}
# Rows quiet for this long say nothing any more; they are deleted as new failures come in, so a
# flood of invented account names cannot grow the table without bound.
KEEP_ROWS_FOR = dt.timedelta(days=1)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


def _key_hash(kind: str, key: str) -> str:
    return hashlib.sha256(f"{kind}\0{key}".encode()).hexdigest()


def account_key(username: str) -> str:
    return (username or "").strip().lower()[:200]


def _delay(rule: ThrottleRule, failures: int) -> dt.timedelta:
    if failures < rule.free_failures:
        return dt.timedelta(0)
    return min(rule.max_delay, dt.timedelta(seconds=2 ** (failures - rule.free_failures)))


def _row(session: Session, kind: str, key: str, *, create: bool, lock: bool = False) -> LoginThrottle | None:
    stmt = select(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key_hash == _key_hash(kind, key))
    if lock:
        stmt = stmt.with_for_update()  # PostgreSQL: two workers counting the same key wait for each other
    row = session.scalar(stmt)
    if row is None and create:
        try:
            with session.begin_nested():
                row = LoginThrottle(kind=kind, key_hash=_key_hash(kind, key), failures=0, window_started_at=now_utc())
                session.add(row)
        except IntegrityError:  # another worker created it first
            row = session.scalar(stmt)
    return row


def _stale(rule: ThrottleRule, row: LoginThrottle, now: dt.datetime) -> bool:
    last = row.last_failure_at or row.window_started_at
    locked = row.locked_until is not None and row.locked_until > now
    return not locked and now - last >= rule.window


def check(session: Session, keys: dict[str, str], *, now: dt.datetime | None = None) -> Verdict:
    """May a login be attempted now for these keys ({"account": name, "address": ip})?"""
    now = now or now_utc()
    wait = dt.timedelta(0)
    for kind, key in keys.items():
        rule = RULES[kind]
        row = _row(session, kind, key, create=False)
        if row is None or _stale(rule, row, now):
            continue
        if row.locked_until is not None and row.locked_until > now:
            wait = max(wait, row.locked_until - now)
        elif row.last_failure_at is not None:
            wait = max(wait, row.last_failure_at + _delay(rule, row.failures) - now)
    if wait > dt.timedelta(0):
        return Verdict(False, max(1, math.ceil(wait.total_seconds())))
    return Verdict(True)


def record_failure(session: Session, keys: dict[str, str], *, now: dt.datetime | None = None) -> list[str]:
    """Count a failed login for every key; returns the kinds that became locked by this failure."""
    now = now or now_utc()
    session.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failure_at < now - KEEP_ROWS_FOR,
        (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now)))
    locked: list[str] = []
    for kind, key in keys.items():
        rule = RULES[kind]
        row = _row(session, kind, key, create=True, lock=True)
        if _stale(rule, row, now):
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= rule.lock_after and (row.locked_until is None or row.locked_until <= now):
            row.locked_until = now + rule.lock_for
            locked.append(kind)
            _audit_lockout(session, kind, key, rule, row.failures, now)
    session.flush()
    return locked


def record_success(session: Session, username: str) -> None:
    kind, key = "account", account_key(username)
    session.execute(delete(LoginThrottle).where(LoginThrottle.kind == kind,
                                                LoginThrottle.key_hash == _key_hash(kind, key)))


def _audit_lockout(session: Session, kind: str, key: str, rule: ThrottleRule, failures: int,
                   now: dt.datetime) -> None:
    minutes = int(rule.lock_for.total_seconds() // 60)
    user_id = None
    if kind == "account":
        # Admins see which real account is under attack; a name that matches no user is not kept
        # (it may be a password typed in the wrong field).
        user_id = session.scalar(select(User.id).where(User.username == key))
        shown = key if user_id is not None else "(login inexistente)"
        what = f"conta {shown}"
    else:
        shown = key[:64]
        what = f"endereço {shown}"
    audit.record(session, audit.Actor.system("login"), "auth.lockout", "user" if user_id else "login_throttle",
                 user_id or kind,
                 summary=f"Login bloqueado por {minutes} min após {failures} tentativas erradas: {what}",
                 details={"kind": kind, "key": shown, "failures": failures,
                          "locked_until": (now + rule.lock_for).isoformat()})
