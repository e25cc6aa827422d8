"""Writing events into the outbox, in the transaction of the change they report.

`emit` adds one `EventDelivery` per active endpoint of the branch subscribed to the type; the
caller's commit makes the change and its events exist together or not at all.

Most events are not emitted by a call, but recognised by a flush listener (`install`, wired by
`app.bootstrap`) in the records every such change already writes in its own transaction:

    NegativationEvent kind accepted / activated / removed / error -> negativation.accepted / .active /
                                                                     .removed / .error
    AuditEvent consultation.success / consultation.reuse          -> consultation.completed
    AuditEvent collections.run                                    -> collections_run.finished
    AuditEvent title.payment                                      -> title.payment_recorded

Why a listener: these changes happen in five wings and in code other people are reshaping; the
history event and the audit row are already written, in the same flush, by every path that makes
the change (manual, routine, outbox, status sync), so no path can forget to emit, and the wings
need not know that endpoints exist.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Branch, Consultation, NegativationEvent, Title
from app.models.collections import CollectionRun
from app.models.events import EventDelivery, EventEndpoint
from app.services.core.clock import now_utc

from . import payloads

log = logging.getLogger("creditdesk.events")

NEGATIVATION_KINDS = {"accepted": "negativation.accepted", "activated": "negativation.active",
                      "removed": "negativation.removed", "error": "negativation.error"}
AUDIT_ACTIONS = {"consultation.success": "consultation.completed", "consultation.reuse": "consultation.completed",
                 "collections.run": "collections_run.finished", "title.payment": "title.payment_recorded"}


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def subscribers(session: Session, branch_id: int, event_type: str) -> list[EventEndpoint]:
    endpoints = _endpoints_of(session, branch_id)
    return [e for e in endpoints if event_type in (e.event_types or [])]


def _endpoints_of(session: Session, branch_id: int) -> list[EventEndpoint]:
    # Read once per transaction and branch: a routine run writes thousands of events per flush.
    cache = session.info.setdefault("creditdesk_endpoints", {})
    if branch_id not in cache:
        with session.no_autoflush:
            cache[branch_id] = list(session.scalars(select(EventEndpoint).where(
                EventEndpoint.branch_id == branch_id, EventEndpoint.active.is_(True)).order_by(EventEndpoint.id)))
    return cache[branch_id]


def emit(session: Session, event_type: str, branch_id: int, data: dict[str, Any] | Callable[[], dict[str, Any]],
         *, occurred_at: dt.datetime | None = None, endpoints: list[EventEndpoint] | None = None) -> str | None:
    """Queue one event for every subscribed endpoint of the branch (in the caller's transaction).

    `data` may be a callable, built only when someone subscribed. Returns the event id, or None
    when nobody subscribed (nothing is written)."""
    targets = endpoints if endpoints is not None else subscribers(session, branch_id, event_type)
    if not targets:
        return None
    occurred_at = occurred_at or now_utc()
    body = data() if callable(data) else data
    with session.no_autoflush:
        branch = session.get(Branch, branch_id)
    event_id = new_event_id()
    full = payloads.envelope(event_id, event_type, occurred_at, branch, branch_id, body)
    for endpoint in targets:
        session.add(EventDelivery(
            event_id=event_id, event_type=event_type, endpoint_id=endpoint.id, branch_id=branch_id,
            payload=payloads.for_endpoint(full, endpoint.full_documents), status="pending", attempts=0,
            occurred_at=occurred_at, next_attempt_at=occurred_at))
    return event_id


_INSTALLED = "_creditdesk_events_installed"


def install(session_factory) -> None:
    """Listen to the sessions of this factory (idempotent: one listener however often called).

    The mark is kept on the factory itself. `event.contains` keys its registry by `id()` of the
    factory, while the listeners live on the factory's generated Session class, which only the
    cyclic garbage collector frees: a new factory allocated where a dead one was could be taken for
    it, and would then get no listener, so no events at all."""
    if getattr(session_factory, _INSTALLED, False):
        return
    event.listen(session_factory, "before_flush", _before_flush)
    event.listen(session_factory, "after_commit", _forget_endpoints)
    event.listen(session_factory, "after_rollback", _forget_endpoints)
    setattr(session_factory, _INSTALLED, True)


def _forget_endpoints(session: Session) -> None:
    session.info.pop("creditdesk_endpoints", None)


def _before_flush(session: Session, _flush_context, _instances) -> None:
    for obj in list(session.new):
        if isinstance(obj, NegativationEvent) and obj.kind in NEGATIVATION_KINDS:
            _from_negativation_event(session, obj)
        elif isinstance(obj, AuditEvent) and obj.action in AUDIT_ACTIONS:
            _from_audit(session, obj)


def _from_negativation_event(session: Session, record: NegativationEvent) -> None:
    neg = record.negativation
    if neg is None or neg.branch_id is None:
        return
    event_type = NEGATIVATION_KINDS[record.kind]
    emit(session, event_type, neg.branch_id,
         lambda: payloads.negativation_data(neg, with_error=event_type == "negativation.error"),
         occurred_at=record.at)


def _from_audit(session: Session, record: AuditEvent) -> None:
    if record.branch_id is None or record.entity_id is None:
        return
    event_type = AUDIT_ACTIONS[record.action]
    if not subscribers(session, record.branch_id, event_type):
        return  # nothing to load
    entity_id = int(record.entity_id)
    with session.no_autoflush:
        if event_type == "consultation.completed":
            row = session.get(Consultation, entity_id)
            build = (lambda: payloads.consultation_data(row)) if row is not None else None
        elif event_type == "collections_run.finished":
            run = session.get(CollectionRun, entity_id)
            build = (lambda: payloads.collections_run_data(run)) if run is not None else None
        else:
            title = session.get(Title, entity_id)
            details = record.details or {}
            build = (lambda: payloads.payment_data(title, details.get("amount"), details.get("paid_on"))) \
                if title is not None else None
        if build is None:
            log.warning("event %s: %s %s not found", event_type, record.entity_type, entity_id)
            return
        emit(session, event_type, record.branch_id, build, occurred_at=record.at)
