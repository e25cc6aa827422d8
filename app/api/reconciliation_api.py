"""API: reconciliation with the bureau: open divergences, "Conciliar agora" (queued),
runs with counts per kind, and the one-click actions of the page."""

from __future__ import annotations

from flask import jsonify, request

from app.models.reconciliation import DivergenceKind, ReconciliationRun
from app.request_scope import db_session, services
from app.services.core.errors import NotFound, ValidationError
from app.services.reconciliation import actions, queries
from app.services.reconciliation.runs import queue_runs

from . import Capability, api_actor, bp, json_body, require, require_credit


def _iso(value):
    return value.isoformat() if value else None


def divergence_json(d) -> dict:
    return {"id": d.id, "kind": d.kind, "kind_label": d.kind_label, "status": d.status, "branch_id": d.branch_id,
            "negativation_id": d.negativation_id, "opened_at": _iso(d.opened_at), "last_seen_at": _iso(d.last_seen_at),
            "seen_count": d.seen_count, "closed_at": _iso(d.closed_at), "close_reason": d.close_reason,
            "evidence": d.evidence}


def run_json(r: ReconciliationRun) -> dict:
    return {"id": r.id, "branch_id": r.branch_id, "trigger": r.trigger, "status": r.status,
            "requested_by": r.requested_by, "scheduled_for": _iso(r.scheduled_for), "created_at": _iso(r.created_at),
            "started_at": _iso(r.started_at), "finished_at": _iso(r.finished_at), "rate_per_s": r.rate_per_s,
            "total": r.total, "checked": r.checked, "skipped": r.skipped, "errors": r.errors, "resumed": r.resumed,
            "counts": r.counts, "opened": r.opened, "closed": r.closed, "message": r.message}


def _int(name: str) -> int | None:
    raw = request.args.get(name, "")
    if raw and not raw.isdigit():
        raise ValidationError(f"{name} deve ser um número.", field_errors={name: "inválido"})
    return int(raw) if raw else None


@bp.get("/reconciliation/divergences")
@require_credit
def list_divergences():
    status = request.args.get("status", "open")
    kind = request.args.get("kind") or None
    if kind and kind not in {k.value for k in DivergenceKind}:
        raise ValidationError("Tipo de divergência desconhecido.", field_errors={"kind": "inválido"})
    limit = min(200, _int("limit") or 50)
    rows = queries.list_divergences(db_session(), status=status if status in ("open", "closed") else None,
                                    kind=kind, branch_id=_int("branch_id"), limit=limit, offset=_int("offset") or 0)
    return jsonify({"items": [divergence_json(d) for d in rows],
                    "open_counts": queries.open_counts(db_session(), _int("branch_id"))})


@bp.get("/reconciliation/divergences/<int:divergence_id>")
@require_credit
def get_divergence(divergence_id: int):
    return jsonify(divergence_json(actions.get_divergence(db_session(), divergence_id)))


@bp.post("/reconciliation/runs")
@require_credit
@require(Capability.NEGATIVATE)
def create_runs():
    data = request.get_json(silent=True) or {}
    branch_id = data.get("branch_id")
    if branch_id is not None and not isinstance(branch_id, int):
        raise ValidationError("branch_id deve ser um número.", field_errors={"branch_id": "inválido"})
    s = db_session()
    runs = queue_runs(s, api_actor(), branch_id, trigger="api")
    return jsonify({"items": [run_json(r) for r in runs]}), 202


@bp.get("/reconciliation/runs")
@require_credit
def list_runs():
    rows = queries.list_runs(db_session(), branch_id=_int("branch_id"), limit=min(200, _int("limit") or 30),
                             offset=_int("offset") or 0)
    return jsonify({"items": [run_json(r) for r in rows]})


@bp.get("/reconciliation/runs/<int:run_id>")
@require_credit
def get_run(run_id: int):
    run = db_session().get(ReconciliationRun, run_id)
    if run is None:
        raise NotFound("Conciliação não encontrada.")
    return jsonify(run_json(run))


@bp.post("/reconciliation/divergences/<int:divergence_id>/recheck")
@require_credit
@require(Capability.NEGATIVATE)
def recheck(divergence_id: int):
    result = actions.recheck_divergence(services(), api_actor(), divergence_id)
    return jsonify({"negativation_id": result.negativation_id, "outcome": result.outcome, "kinds": result.kinds,
                    "opened": result.opened, "closed": result.closed, "message": result.message})


def _outcome_json(outcome) -> dict:
    return {"negativation_id": outcome.negativation_id, "status": outcome.status, "ok": outcome.ok,
            "message": outcome.message}


@bp.post("/reconciliation/divergences/<int:divergence_id>/resend-removal")
@require_credit
@require(Capability.NEGATIVATE)
def resend_removal(divergence_id: int):
    return jsonify(_outcome_json(actions.resend_removal(services(), api_actor(), divergence_id)))


@bp.post("/reconciliation/divergences/<int:divergence_id>/mark-removed")
@require_credit
@require(Capability.NEGATIVATE)
def mark_removed(divergence_id: int):
    data = json_body()
    return jsonify(_outcome_json(actions.mark_removed(services(), api_actor(), divergence_id,
                                                      str(data.get("reason") or ""), note=str(data.get("note") or ""))))


@bp.post("/reconciliation/divergences/<int:divergence_id>/update-status")
@require_credit
@require(Capability.NEGATIVATE)
def update_status(divergence_id: int):
    return jsonify(_outcome_json(actions.update_status(services(), api_actor(), divergence_id)))
