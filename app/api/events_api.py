"""API: outbound event endpoints and their delivery log. Admin only."""

from __future__ import annotations

from flask import jsonify, request

from app.request_scope import db_session, end_snapshot, services
from app.services.events import delivery as delivery_service
from app.services.events import endpoints as endpoint_service
from app.services.events.catalog import EVENT_TYPES

from . import Capability, api_actor, bp, require
from .pagination import make_cursor, read_cursor
from .schemas import events as sch
from .validation import schema


def _iso(value):
    return value.isoformat() if value else None


def endpoint_json(e) -> dict:
    # The secret is never shown back (it was shown once, when set).
    return {"id": e.id, "branch_id": e.branch_id, "name": e.name, "url": e.url, "event_types": e.event_types,
            "full_documents": e.full_documents, "active": e.active}


def delivery_json(d, attempts=()) -> dict:
    return {"id": d.id, "event_id": d.event_id, "event_type": d.event_type, "endpoint_id": d.endpoint_id,
            "status": d.status, "attempts": d.attempts, "occurred_at": _iso(d.occurred_at),
            "next_attempt_at": _iso(d.next_attempt_at), "delivered_at": _iso(d.delivered_at),
            "last_http_status": d.last_http_status, "last_error": d.last_error,
            "log": [{"attempt": a.attempt, "at": _iso(a.at), "ok": a.ok, "http_status": a.http_status,
                     "duration_ms": a.duration_ms, "error": a.error} for a in attempts]}


@bp.get("/events/types")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.EventTypeList, errors=(403,))
def event_types():
    return jsonify({"items": [{"type": t, "label": label} for t, label in EVENT_TYPES.items()], "next_cursor": None})


@bp.get("/events/endpoints")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.EventEndpointList, errors=(403,))
def list_endpoints():
    return jsonify({"items": [endpoint_json(e) for e in endpoint_service.list_endpoints(db_session())],
                    "next_cursor": None})


@bp.get("/events/endpoints/<int:endpoint_id>/deliveries")
@require(Capability.MANAGE_SETTINGS)
@schema(query=sch.DeliveriesQuery, ok=sch.DeliveryList, errors=(403, 404))
def list_deliveries(endpoint_id: int):
    """The endpoint's delivery log, newest first, paged by `cursor` (the id the next page starts before)."""
    s = db_session()
    endpoint_service.get_endpoint(s, endpoint_id)
    limit = int(request.args.get("limit", 50))
    rows = delivery_service.deliveries(s, endpoint_id, status=request.args.get("status"), limit=limit + 1,
                                       before_id=read_cursor(request.args.get("cursor")))
    attempts = delivery_service.attempts_of(s, [d.id for d in rows[:limit]])
    return jsonify({"items": [delivery_json(d, attempts[d.id]) for d in rows[:limit]],
                    "next_cursor": make_cursor(rows[limit - 1].id) if len(rows) > limit else None})


@bp.post("/events/endpoints/<int:endpoint_id>/test")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.EndpointTestOut, errors=(403, 404))
def test_endpoint(endpoint_id: int):
    """"Enviar teste": an endpoint.test event, delivered now; a failed delivery is an answer, not an error."""
    outcome, row = delivery_service.send_test(services(), api_actor(), endpoint_id)
    end_snapshot()  # the service committed the attempt in transactions of its own: read after them
    log = delivery_service.attempts_of(db_session(), [row.id])[row.id]
    return jsonify({"outcome": outcome, "delivery": delivery_json(row, log)})


@bp.post("/events/deliveries/<int:delivery_id>/redeliver")
@require(Capability.MANAGE_SETTINGS)
@schema(ok=sch.DeliveryOut, status=202, errors=(403, 404, 409))
def redeliver(delivery_id: int):
    """"Reenviar": back to the queue, due now; 409 already_delivered once the endpoint answered 2xx."""
    s = db_session()
    row = delivery_service.redeliver(s, api_actor(), delivery_id)
    return jsonify(delivery_json(row, delivery_service.attempts_of(s, [row.id])[row.id])), 202
