"""Delivering the events outbox (the `events_delivery` job), the log, "reenviar" and the test button.

Each due row is claimed with a conditional UPDATE (one runner owns it for CLAIM_TTL), sent with NO
transaction open, and the attempt recorded in a new one. 2xx makes the row `delivered`, and a
delivered row is never sent again: no second scheduler, retry or "reenviar" delivers the same event
id twice to an endpoint that answered 2xx. The one window left, a crash between the receiver's 2xx
and our commit, is why every request carries the event id: receivers deduplicate on it
(docs/events.md). Failures are retried with capped exponential backoff; after MAX_ATTEMPTS, or on
an answer a retry cannot fix, the row is `failed` and waits for "reenviar".
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import transaction
from app.models.events import EventDelivery, EventDeliveryAttempt, EventEndpoint
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import Conflict, NotFound
from integrations.events.port import SendResult

from . import payloads
from .catalog import TEST_EVENT
from .emit import new_event_id
from .endpoints import check_url, get_endpoint, require_admin

log = logging.getLogger("creditdesk.events")

MAX_ATTEMPTS = 12
BACKOFF_BASE_S = 15
BACKOFF_CAP_S = 3600
CLAIM_TTL = dt.timedelta(minutes=2)  # longer than connect + read timeouts; a crash mid-call retries after it
BATCH = 200


def backoff(attempt: int, rng: random.Random | None = None) -> dt.timedelta:
    """15 s, 30 s, 60 s … capped at one hour, plus up to 10 % jitter (endpoints that come back are
    not hit by every pending row in the same second)."""
    base = min(BACKOFF_BASE_S * 2 ** max(0, attempt - 1), BACKOFF_CAP_S)
    return dt.timedelta(seconds=base * (1 + (rng or random).random() * 0.1))


@dataclass
class DeliverySummary:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (f"entregues={self.delivered} a_reenviar={self.retrying} falharam={self.failed} "
                f"ignorados={self.skipped}")


def deliver_pending(services, *, now: dt.datetime | None = None, limit: int = BATCH, sender=None) -> DeliverySummary:
    """Deliver the due rows, oldest first; one row's failure never stops the others."""
    now = now or now_utc()
    sender = sender or services.events_sender()
    summary = DeliverySummary()
    with services.session_factory() as s:
        ids = s.scalars(select(EventDelivery.id).where(
            EventDelivery.status == "pending", EventDelivery.next_attempt_at <= now)
            .order_by(EventDelivery.next_attempt_at, EventDelivery.id).limit(limit)).all()
    for delivery_id in ids:
        try:
            outcome = deliver_one(services, delivery_id, now=now, sender=sender)
        except Exception:  # noqa: BLE001 - logged; the row is retried after its claim expires
            log.exception("event delivery %s could not be processed", delivery_id)
            outcome = "skipped"
        setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary


def deliver_one(services, delivery_id: int, *, now: dt.datetime | None = None, sender=None) -> str:
    """Claim, send, record one row: "delivered", "retrying", "failed" or "skipped" (not ours now)."""
    # The batch's `now` decides what is due; the claim counts from the clock, so a slow batch never
    # hands out a claim that has already expired.
    now = max(now or now_utc(), now_utc())
    sender = sender or services.events_sender()
    with transaction(services.session_factory) as s:
        claimed = s.execute(
            update(EventDelivery)
            .where(EventDelivery.id == delivery_id, EventDelivery.status == "pending",
                   EventDelivery.next_attempt_at <= now)
            .values(next_attempt_at=now + CLAIM_TTL)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            return "skipped"  # another runner holds it, or it was delivered meanwhile
        row = s.get(EventDelivery, delivery_id)
        endpoint = s.get(EventEndpoint, row.endpoint_id)
        url, active = endpoint.url, endpoint.active
        secret = services.box.decrypt(endpoint.secret_encrypted)
        event_id, event_type, payload = row.event_id, row.event_type, row.payload
        attempt = row.attempts + 1
    problem = None if active else "Destino desativado."
    problem = problem or check_url(url, production=services.config.get("ENV_NAME") == "production")
    if problem:
        result = SendResult(False, error=problem, retryable=False)
    else:
        result = sender.send(url, secret, event_id, event_type, payload)
    with transaction(services.session_factory) as s:
        row = s.get(EventDelivery, delivery_id)
        row.attempts = attempt
        row.last_http_status = result.http_status
        s.add(EventDeliveryAttempt(endpoint_id=row.endpoint_id, delivery_id=row.id, attempt=attempt, at=now_utc(),
                                   ok=result.ok, http_status=result.http_status, duration_ms=result.duration_ms,
                                   error=(result.error or None) and result.error[:500]))
        if result.ok:
            row.status, row.delivered_at, row.last_error = "delivered", now_utc(), None
            return "delivered"
        row.last_error = (result.error or "falha")[:500]
        if not result.retryable or attempt >= MAX_ATTEMPTS:
            row.status = "failed"
            return "failed"
        row.next_attempt_at = now + backoff(attempt)
        return "retrying"


def redeliver(session: Session, actor: audit.Actor, delivery_id: int) -> EventDelivery:
    """"Reenviar": a failed row goes back to the queue, due now (after fixing the URL, say). A
    delivered one is refused: the endpoint already answered 2xx for this event id."""
    require_admin(actor)
    row = session.get(EventDelivery, delivery_id)
    if row is None:
        raise NotFound("Entrega não encontrada.")
    if row.status == "delivered":
        raise Conflict("Este evento já foi entregue (o destino respondeu 2xx); reenviá-lo entregaria o mesmo "
                       "evento duas vezes.", code="already_delivered")
    row.status, row.attempts, row.next_attempt_at, row.last_error = "pending", 0, now_utc(), None
    audit.record(session, actor, "events.redeliver", "event_delivery", row.id, branch_id=row.branch_id,
                 summary=f"Evento {row.event_type} ({row.event_id}) recolocado na fila de envio")
    return row


def send_test(services, actor: audit.Actor, endpoint_id: int, *, sender=None) -> tuple[str, EventDelivery]:
    """The "Enviar teste" button: an `endpoint.test` event to this endpoint only, delivered now."""
    require_admin(actor)
    with transaction(services.session_factory) as s:
        endpoint = get_endpoint(s, endpoint_id)
        event_id, now = new_event_id(), now_utc()
        data = {"message": "Entrega de teste do credit-desk.", "endpoint": {"id": endpoint.id, "name": endpoint.name}}
        row = EventDelivery(event_id=event_id, event_type=TEST_EVENT, endpoint_id=endpoint.id,
                            branch_id=endpoint.branch_id, status="pending", attempts=0, occurred_at=now,
                            next_attempt_at=now,
                            payload=payloads.envelope(event_id, TEST_EVENT, now, endpoint.branch, endpoint.branch_id,
                                                      data))
        s.add(row)
        s.flush()
        delivery_id = row.id
        audit.record(s, actor, "events.test", "event_endpoint", endpoint.id, branch_id=endpoint.branch_id,
                     summary=f"Entrega de teste para '{endpoint.name}'")
    outcome = deliver_one(services, delivery_id, sender=sender)
    with services.session_factory() as s:
        return outcome, s.get(EventDelivery, delivery_id)


def deliveries(session: Session, endpoint_id: int, *, status: str | None = None, limit: int = 50,
               offset: int = 0, before_id: int | None = None) -> list[EventDelivery]:
    """The endpoint's log, newest first; `before_id` continues a page (the API's cursor), `offset` a
    numbered page (the web)."""
    stmt = select(EventDelivery).where(EventDelivery.endpoint_id == endpoint_id)
    if status:
        stmt = stmt.where(EventDelivery.status == status)
    if before_id is not None:
        stmt = stmt.where(EventDelivery.id < before_id)
    return list(session.scalars(stmt.order_by(EventDelivery.id.desc()).offset(offset).limit(limit)))


def attempts_of(session: Session, delivery_ids: list[int]) -> dict[int, list[EventDeliveryAttempt]]:
    out: dict[int, list[EventDeliveryAttempt]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        for a in session.scalars(select(EventDeliveryAttempt).where(EventDeliveryAttempt.delivery_id.in_(delivery_ids))
                                 .order_by(EventDeliveryAttempt.id)):
            out[a.delivery_id].append(a)
    return out


def status_counts(session: Session, endpoint_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    """{endpoint id: {status: n}} for the endpoints page."""
    stmt = select(EventDelivery.endpoint_id, EventDelivery.status, func.count()).group_by(
        EventDelivery.endpoint_id, EventDelivery.status)
    if endpoint_ids is not None:
        stmt = stmt.where(EventDelivery.endpoint_id.in_(endpoint_ids))
    out: dict[int, dict[str, int]] = {}
    for endpoint_id, status, n in session.execute(stmt):
        out.setdefault(endpoint_id, {})[status] = n
    return out
