"""API: negativations (create, remove, list, get, events, status sync, resend), reasons, eligibility."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from app.models import Negativation
from app.models.negativations import NEGATIVATION_STATUS_LABELS
from app.request_scope import db_session, services
from app.services.core.clock import today_br
from app.services.core.errors import NotFound, ValidationError
from app.services.negativations import sending as neg_service
from app.services.negativations.eligibility import Criteria, evaluate_party
from app.services.settings import restriction_reasons

from . import api_actor, bp, json_body, require_credit, require_roles
from .pagination import make_cursor, read_cursor
from .schemas import negativations as sch
from .validation import schema

WRITERS = ("admin", "finance")


def negativation_json(n: Negativation) -> dict:
    return {
        "id": n.id,
        "party_id": n.party_id,
        "branch_id": n.branch_id,
        "status": n.status,
        "status_label": n.status_label,
        "protocol": n.protocol,
        "restriction_code": n.restriction_code,
        "idempotency_key": n.idempotency_key,
        "origin": n.origin,
        "requested_by": n.requested_by,
        "created_at": n.created_at.isoformat(),
        "notice_until": _iso(n.notice_until),
        "activated_at": _iso(n.activated_at),
        "total_amount": str(n.total_amount),
        "amount_received": str(n.amount_received),
        "removal_reason": n.removal_reason,
        "removal_requested_at": _iso(n.removal_requested_at),
        "removed_at": _iso(n.removed_at),
        "paid_on": _iso(n.paid_on),
        "removal_deadline": _iso(n.removal_deadline),
        "deadline_met": n.deadline_met(),
        "attempts": n.attempts,
        "next_attempt_at": _iso(n.next_attempt_at),
        "last_error": {"code": n.last_error_code, "message": n.last_error_message, "kind": n.error_kind}
        if n.last_error_code
        else None,
        "address_sent": n.debtor_address,
        "titles": [
            {
                "title_id": nt.title_id,
                "number": nt.number,
                "due_date": nt.due_date.isoformat(),
                "amount_sent": str(nt.amount_sent),
                "live": nt.live,
            }
            for nt in n.titles
        ],
    }


def _iso(value):
    return value.isoformat() if value is not None else None


def _outcome_json(outcome: neg_service.Outcome) -> dict:
    return {
        "negativation_id": outcome.negativation_id,
        "status": outcome.status,
        "ok": outcome.ok,
        "message": outcome.message,
    }


def _get(negativation_id: int) -> Negativation:
    neg = db_session().get(Negativation, negativation_id)
    if neg is None:
        raise NotFound("Negativação não encontrada.")
    return neg


def _ids(value, field: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(i, int) for i in value):
        raise ValidationError(f"'{field}' deve ser uma lista de ids inteiros.", field_errors={field: "lista"})
    return value


@bp.get("/negativations")
@require_credit
@schema(query=sch.NegativationsQuery, ok=sch.NegativationList, errors=(403,))
def list_negativations():
    stmt = select(Negativation).order_by(Negativation.id.desc())
    status = request.args.get("status")
    if status:
        if status not in NEGATIVATION_STATUS_LABELS:
            raise ValidationError("Status inválido.", field_errors={"status": "inválido"})
        stmt = stmt.where(Negativation.status == status)
    for name, col in (
        ("party_id", Negativation.party_id),
        ("branch_id", Negativation.branch_id),
    ):
        raw = request.args.get(name, "")
        if raw.isdigit():
            stmt = stmt.where(col == int(raw))
    before = read_cursor(request.args.get("cursor"))
    if before is not None:
        stmt = stmt.where(Negativation.id < before)
    limit = (
        min(500, int(request.args.get("limit", "100"))) if request.args.get("limit", "").isdigit() else 100
    )
    rows = db_session().scalars(stmt.limit(limit + 1)).all()
    return jsonify(
        {
            "items": [negativation_json(n) for n in rows[:limit]],
            "next_cursor": make_cursor(rows[limit - 1].id) if len(rows) > limit else None,
        }
    )


@bp.post("/negativations")
@require_roles(*WRITERS)
@require_credit
@schema(body=sch.NegativateIn, ok=sch.OutcomeWithNegativation, status=201, errors=(403, 404, 409, 502))
def create_negativation():
    data = json_body()
    party_id = data.get("party_id")
    if not isinstance(party_id, int):
        raise ValidationError("Informe 'party_id'.", field_errors={"party_id": "obrigatório"})
    outcome = neg_service.negativate_titles(
        services(),
        api_actor(),
        party_id,
        _ids(data.get("title_ids"), "title_ids"),
        str(data.get("restriction_code") or ""),
    )
    db_session().rollback()  # end the request snapshot: the service committed in its own sessions
    return jsonify(
        _outcome_json(outcome) | {"negativation": negativation_json(_get(outcome.negativation_id))}
    ), 201


@bp.get("/negativations/<int:negativation_id>")
@require_credit
@schema(ok=sch.NegativationOut, errors=(403, 404))
def get_negativation(negativation_id: int):
    return jsonify(negativation_json(_get(negativation_id)))


@bp.get("/negativations/<int:negativation_id>/events")
@require_credit
@schema(ok=sch.EventList, errors=(403, 404))
def negativation_events(negativation_id: int):
    return jsonify(
        {
            "items": [
                {"at": e.at.isoformat(), "kind": e.kind, "message": e.message, "actor": e.actor}
                for e in _get(negativation_id).events
            ],
            "next_cursor": None,
        }
    )


@bp.post("/negativations/removals")
@require_roles(*WRITERS)
@require_credit
@schema(body=sch.RemoveIn, ok=sch.OutcomeList, errors=(403, 404, 409, 502))
def remove_negativations():
    data = json_body()
    outcomes = neg_service.remove_negativations(
        services(),
        api_actor(),
        _ids(data.get("ids"), "ids"),
        str(data.get("reason") or ""),
        note=str(data.get("note") or ""),
    )
    return jsonify({"items": [_outcome_json(o) for o in outcomes], "next_cursor": None})


@bp.post("/negativations/<int:negativation_id>/sync")
@require_credit
@schema(ok=sch.OutcomeWithNegativation, errors=(403, 404, 409, 502))
def sync_negativation(negativation_id: int):
    outcome = neg_service.refresh_status(services(), api_actor(), negativation_id)
    db_session().rollback()  # end the request snapshot: the service committed in its own sessions
    return jsonify(_outcome_json(outcome) | {"negativation": negativation_json(_get(negativation_id))})


@bp.post("/negativations/<int:negativation_id>/resend")
@require_roles(*WRITERS)
@require_credit
@schema(body=sch.ResendIn, ok=sch.OutcomeWithNegativation, errors=(403, 404, 409, 502), optional_body=True)
def resend_negativation(negativation_id: int):
    data = request.get_json(silent=True) or {}
    outcome = neg_service.resend(
        services(), api_actor(), negativation_id, restriction_code=data.get("restriction_code") or None
    )
    db_session().rollback()  # end the request snapshot: the service committed in its own sessions
    return jsonify(_outcome_json(outcome) | {"negativation": negativation_json(_get(negativation_id))})


@bp.get("/parties/<int:party_id>/restriction-reasons")
@require_credit
@schema(query=sch.ReasonsQuery, ok=sch.ReasonList, errors=(403, 404, 502))
def party_reasons(party_id: int):
    result = restriction_reasons.reasons_for_party(
        services(), party_id, refresh=request.args.get("refresh") == "1"
    )
    return jsonify({"person_type": result.person_type, "items": result.items, "next_cursor": None})


@bp.get("/parties/<int:party_id>/eligibility")
@require_credit
@schema(ok=sch.EligibilityList, errors=(403, 404))
def party_eligibility(party_id: int):
    rows = evaluate_party(db_session(), party_id, Criteria(today_br()))
    return jsonify(
        {
            "items": [
                {
                    "title_id": t.id,
                    "number": t.number,
                    "eligible": v.eligible,
                    "code": v.code,
                    "reason": v.reason,
                }
                for t, v in rows
            ],
            "next_cursor": None,
        }
    )
