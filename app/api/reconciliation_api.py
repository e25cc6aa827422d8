"""API: reconciliation with the bureau: open divergences, "Conciliar agora" (queued),
runs with counts per kind, and the one-click actions of the page."""

from __future__ import annotations

from flask import jsonify, request

from app.models.reconciliation import ReconciliationRun
from app.request_scope import db_session, services
from app.services.core.errors import NotFound
from app.services.reconciliation import actions, queries
from app.services.reconciliation.runs import queue_runs

from . import Capability, api_actor, bp, json_body, require, require_credit
from .pagination import make_cursor, read_cursor
from .schemas import reconciliation as sch
from .validation import schema

# The actions reach the bureau: its failures answer 424 (bureau_*) or 503 (bureau_unavailable).
BUREAU_ERRORS = (403, 404, 409, 424, 503)


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


def _branch_arg() -> int | None:
    raw = request.args.get("branch_id")
    return int(raw) if raw else None


@bp.get("/reconciliation/divergences")
@require_credit
@schema(query=sch.DivergencesQuery, ok=sch.DivergenceList, errors=(403,))
def list_divergences():
    """Open divergences first, newest first; paged by `cursor`, with the open counts per kind."""
    status = request.args.get("status", "open")
    limit, offset = int(request.args.get("limit", 50)), read_cursor(request.args.get("cursor")) or 0
    rows = queries.list_divergences(db_session(), status=None if status == "all" else status,
                                    kind=request.args.get("kind"), branch_id=_branch_arg(), limit=limit + 1,
                                    offset=offset)
    return jsonify({"items": [divergence_json(d) for d in rows[:limit]],
                    "next_cursor": make_cursor(offset + limit) if len(rows) > limit else None,
                    "open_counts": queries.open_counts(db_session(), _branch_arg())})


@bp.get("/reconciliation/divergences/<int:divergence_id>")
@require_credit
@schema(ok=sch.DivergenceOut, errors=(403, 404))
def get_divergence(divergence_id: int):
    return jsonify(divergence_json(actions.get_divergence(db_session(), divergence_id)))


@bp.post("/reconciliation/runs")
@require_credit
@require(Capability.NEGATIVATE)
@schema(body=sch.RunsQueueIn, ok=sch.QueuedRunList, status=202, errors=(403, 404, 409), optional_body=True)
def create_runs():
    """"Conciliar agora": queue a run for the branch, or for every branch with an integration."""
    branch_id = (request.get_json(silent=True) or {}).get("branch_id")
    s = db_session()
    runs = queue_runs(s, api_actor(), branch_id, trigger="api")
    return jsonify({"items": [run_json(r) for r in runs], "next_cursor": None}), 202


@bp.get("/reconciliation/runs")
@require_credit
@schema(query=sch.ReconciliationRunsQuery, ok=sch.ReconciliationRunList, errors=(403,))
def list_runs():
    """Newest first, paged by `cursor` (the id the next page starts before)."""
    limit = int(request.args.get("limit", 30))
    rows = queries.list_runs(db_session(), branch_id=_branch_arg(), limit=limit + 1,
                             before_id=read_cursor(request.args.get("cursor")))
    return jsonify({"items": [run_json(r) for r in rows[:limit]],
                    "next_cursor": make_cursor(rows[limit - 1].id) if len(rows) > limit else None})


@bp.get("/reconciliation/runs/<int:run_id>")
@require_credit
@schema(ok=sch.ReconciliationRunOut, errors=(403, 404))
def get_run(run_id: int):
    run = db_session().get(ReconciliationRun, run_id)
    if run is None:
        raise NotFound("Conciliação não encontrada.")
    return jsonify(run_json(run))


@bp.post("/reconciliation/divergences/<int:divergence_id>/recheck")
@require_credit
@require(Capability.NEGATIVATE)
@schema(ok=sch.RecheckOut, errors=BUREAU_ERRORS)
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
@schema(ok=sch.ActionOutcomeOut, errors=BUREAU_ERRORS)
def resend_removal(divergence_id: int):
    return jsonify(_outcome_json(actions.resend_removal(services(), api_actor(), divergence_id)))


@bp.post("/reconciliation/divergences/<int:divergence_id>/mark-removed")
@require_credit
@require(Capability.NEGATIVATE)
@schema(body=sch.MarkRemovedIn, ok=sch.ActionOutcomeOut, errors=(403, 404, 409))
def mark_removed(divergence_id: int):
    """"Registrar baixa": the bureau no longer has the entry; no bureau call."""
    data = json_body()
    return jsonify(_outcome_json(actions.mark_removed(services(), api_actor(), divergence_id, data["reason"],
                                                      note=data.get("note") or "")))


@bp.post("/reconciliation/divergences/<int:divergence_id>/update-status")
@require_credit
@require(Capability.NEGATIVATE)
@schema(ok=sch.ActionOutcomeOut, errors=BUREAU_ERRORS)
def update_status(divergence_id: int):
    return jsonify(_outcome_json(actions.update_status(services(), api_actor(), divergence_id)))
