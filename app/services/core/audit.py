"""Recording audit events. Callers pass the actor; the event joins the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.models import AuditEvent

SECRET_FIELDS = {"client_secret", "client_secret_encrypted", "access_token", "access_token_encrypted", "password"}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user (web, API) or the system (routine, CLI)."""

    name: str
    user_id: int | None = None
    role: str | None = None

    @classmethod
    def system(cls, name: str = "rotina") -> Actor:
        return cls(name=name, user_id=None, role="system")

    @classmethod
    def for_user(cls, user, via: str | None = None) -> Actor:
        name = f"{via}:{user.username}" if via else user.username
        return cls(name=name, user_id=user.id, role=user.role)


def scrub(details: dict[str, Any]) -> dict[str, Any]:
    """Drop secrets from a details dict, at any depth."""
    clean: dict[str, Any] = {}
    for key, value in details.items():
        if key in SECRET_FIELDS:
            clean[key] = "(alterado)" if value else None
        elif isinstance(value, dict):
            clean[key] = scrub(value)
        else:
            clean[key] = value
    return clean


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: Any = None,
    *,
    summary: str = "",
    branch_id: int | None = None,
    document: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        user_id=actor.user_id,
        actor=actor.name,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        branch_id=branch_id,
        document=document,
        summary=summary[:300],
        details=scrub(details or {}),
    )
    session.add(event)
    return event


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Changed fields as {field: [old, new]}, secrets reduced to a flag."""
    changes: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            if key in SECRET_FIELDS:
                changes[key] = "(alterado)"
            else:
                changes[key] = [_plain(old), _plain(new)]
    return changes


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


@dataclass(frozen=True)
class AuditFilter:
    user_id: int | None = None
    document: str | None = None
    action_prefix: str | None = None
    date_from: Any = None  # date, Sao Paulo calendar
    date_to: Any = None


def search(session: Session, flt: AuditFilter, *, limit: int | None = 100, offset: int = 0):
    """Events newest first; bounded by date in Sao Paulo time."""
    import datetime as dt

    from sqlalchemy import select

    from app.services.core.clock import BR_TZ

    stmt = select(AuditEvent)
    if flt.user_id:
        stmt = stmt.where(AuditEvent.user_id == flt.user_id)
    if flt.document:
        stmt = stmt.where(AuditEvent.document == flt.document)
    if flt.action_prefix:
        stmt = stmt.where(AuditEvent.action.startswith(flt.action_prefix, autoescape=True))  # "%" is literal
    if flt.date_from:
        stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(flt.date_from, dt.time(), BR_TZ))
    if flt.date_to:
        stmt = stmt.where(
            AuditEvent.at < dt.datetime.combine(flt.date_to + dt.timedelta(days=1), dt.time(), BR_TZ))
    stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt)
