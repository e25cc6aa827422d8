"""API: negativations (create, remove, list, get, events, status sync, resend), reasons, eligibility."""

from __future__ import annotations

from flask import jsonify, request

from app.models import Negativation
from app.models.negativations import NEGATIVATION_STATUS_LABELS
from app.request_args import bounded_int
from app.request_scope import db_session, end_snapshot, services
from app.services.core.clock import today_br
from app.services.core.errors import NotFound, ValidationError
from app.services.core.ids import as_id
from app.services.negativations import inclusion as neg_inclusion
from app.services.negativations import listing
from app.services.negativations import outbox as neg_outbox
from app.services.negativations.eligibility import Criteria, evaluate_party
from app.services.negativations.outcomes import Outcome
from app.services.settings import restriction_reasons
from app.services.titles import manual_removal

from . import Capability, api_actor, bp, json_body, require, require_credit
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


def _outcome_json(outcome: Outcome) -> dict:
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
    status = request.args.get("status")
    if status and status not in NEGATIVATION_STATUS_LABELS:
        raise ValidationError("Status inválido.", field_errors={"status": "inválido"})

    def int_arg(name: str) -> int | None:
        return as_id(request.args.get(name))

    limit = bounded_int("limit", 100, lo=1, hi=500)
    page = listing.list_negativations(
        db_session(), status=status or None, party_id=int_arg("party_id"), branch_id=int_arg("branch_id"),
        before_id=read_cursor(request.args.get("cursor")), limit=limit,
    )
    return jsonify({"items": [negativation_json(n) for n in page.items],
                    "next_cursor": make_cursor(page.next_before_id) if page.next_before_id else None})


@bp.post("/negativations")
@require(Capability.NEGATIVATE)
@require_credit
@schema(body=sch.NegativateIn, ok=sch.OutcomeWithNegativation, status=201, errors=(403, 404, 409, 424, 503))
def create_negativation():
    data = json_body()
    party_id = data.get("party_id")
    if not isinstance(party_id, int):
        raise ValidationError("Informe 'party_id'.", field_errors={"party_id": "obrigatório"})
    outcome = neg_inclusion.negativate_titles(
        services(),
        api_actor(),
        party_id,
        _ids(data.get("title_ids"), "title_ids"),
        str(data.get("restriction_code") or ""),
        # Titles removed by hand go again only with this explicit confirmation (rules 10 and 11).
        confirm_after_manual_removal=data.get("confirm_after_manual_removal") is True,
    )
    end_snapshot()  # the service committed in sessions of its own: read what it wrote
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
@require(Capability.NEGATIVATE)
@require_credit
@schema(body=sch.RemoveIn, ok=sch.OutcomeList, errors=(403, 404, 409, 424, 503))
def remove_negativations():
    data = json_body()
    outcomes = manual_removal.remove_by_hand(
        services(),
        api_actor(),
        _ids(data.get("ids"), "ids"),
        str(data.get("reason") or ""),
        note=str(data.get("note") or ""),
    )
    return jsonify({"items": [_outcome_json(o) for o in outcomes], "next_cursor": None})


@bp.post("/negativations/<int:negativation_id>/sync")
@require_credit
@schema(ok=sch.OutcomeWithNegativation, errors=(403, 404, 409, 424, 503))
def sync_negativation(negativation_id: int):
    outcome = neg_outbox.refresh_status(services(), api_actor(), negativation_id)
    end_snapshot()  # the service committed in sessions of its own: read what it wrote
    return jsonify(_outcome_json(outcome) | {"negativation": negativation_json(_get(negativation_id))})


@bp.post("/negativations/<int:negativation_id>/resend")
@require(Capability.NEGATIVATE)
@require_credit
@schema(body=sch.ResendIn, ok=sch.OutcomeWithNegativation, errors=(403, 404, 409, 424, 503), optional_body=True)
def resend_negativation(negativation_id: int):
    data = request.get_json(silent=True) or {}
    outcome = neg_inclusion.resend(
        services(), api_actor(), negativation_id, restriction_code=data.get("restriction_code") or None
    )
    end_snapshot()  # the service committed in sessions of its own: read what it wrote
    return jsonify(_outcome_json(outcome) | {"negativation": negativation_json(_get(negativation_id))})


@bp.get("/parties/<int:party_id>/restriction-reasons")
@require_credit
@schema(query=sch.ReasonsQuery, ok=sch.ReasonList, errors=(403, 404, 424, 503))
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
