"""API: collection parameters, runs (dry run synchronous, real run queued), run history."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from app.models import CollectionRun, CollectionRunItem
from app.request_args import bounded_int
from app.request_scope import db_session, end_snapshot, services
from app.services.collections import policy as cp
from app.services.collections.liveness import reap_dead_runs
from app.services.collections.routine import run_branch
from app.services.collections.run_records import queue_run
from app.services.core.clock import today_br
from app.services.core.errors import NotFound, ValidationError

from . import Capability, api_actor, bp, json_body, require, require_credit
from .pagination import make_cursor, read_cursor
from .schemas import collections as sch
from .validation import schema


def _policy_json(p) -> dict:
    return {"branch_id": p.branch_id, "enabled": p.enabled, "handle_by_title": p.handle_by_title,
            "days_to_execute": p.days_to_execute, "grouping": p.grouping, "run_time": p.run_time,
            "max_concurrency": p.max_concurrency, "rate_limit_per_s": p.rate_limit_per_s}


def _run_json(r: CollectionRun) -> dict:
    return {"id": r.id, "branch_id": r.branch_id, "trigger": r.trigger, "dry_run": r.dry_run,
            "requested_by": r.requested_by, "status": r.status, "days_to_execute": r.days_to_execute,
            "scheduled_for": r.scheduled_for.isoformat() if r.scheduled_for else None,
            "started_at": r.started_at.isoformat() if r.started_at else None,
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "counts": r.counts, "skip_reasons": r.skip_reasons, "errors": r.errors, "message": r.message}


@bp.get("/collections/policies/<int:branch_id>")
@require_credit
@schema(ok=sch.PolicyOut, errors=(403,))
def get_collection_policy(branch_id: int):
    return jsonify(_policy_json(cp.policy_for(db_session(), branch_id)))


@bp.put("/collections/policies/<int:branch_id>")
@require_credit
@require(Capability.MANAGE_SETTINGS)
@schema(body=sch.PolicyIn, ok=sch.PolicyOut, errors=(403, 404))
def put_collection_policy(branch_id: int):
    data = json_body()
    s = db_session()
    current = cp.policy_for(s, branch_id)
    row = cp.save_collection_policy(s, api_actor(), branch_id, cp.CollectionPolicyInput(
        enabled=bool(data.get("enabled", current.enabled)),
        handle_by_title=bool(data.get("handle_by_title", current.handle_by_title)),
        days_to_execute=data.get("days_to_execute", current.days_to_execute),
        grouping=data.get("grouping", current.grouping), run_time=data.get("run_time", current.run_time),
        max_concurrency=data.get("max_concurrency", current.max_concurrency),
        rate_limit_per_s=data.get("rate_limit_per_s", current.rate_limit_per_s)))
    return jsonify(_policy_json(row))


@bp.post("/collections/runs")
@require_credit
@require(Capability.RUN_COLLECTIONS)
@schema(body=sch.RunIn, ok=sch.RunOut, status=202, more={200: sch.RunOut}, errors=(403, 404, 409))
def create_collection_run():
    data = json_body()
    branch_id = data.get("branch_id")
    if not isinstance(branch_id, int):
        raise ValidationError("Informe branch_id (número da filial).", field_errors={"branch_id": "obrigatório"})
    if data.get("dry_run", False):
        summary = run_branch(services(), api_actor(), branch_id, dry_run=True, trigger="api", today=today_br())
        end_snapshot()  # the run committed in transactions of its own: read what it wrote
        return jsonify(_run_json(db_session().get(CollectionRun, summary.run_id)))
    run = queue_run(db_session(), api_actor(), branch_id)
    return jsonify(_run_json(run)), 202


@bp.get("/collections/runs")
@require_credit
@schema(query=sch.RunsQuery, ok=sch.RunList, errors=(403,))
def list_collection_runs():
    reap_dead_runs(db_session())  # a run whose process is gone is listed as "interrupted" (committed with the request)
    limit = bounded_int("limit", 50, lo=1, hi=200)
    stmt = select(CollectionRun).order_by(CollectionRun.id.desc()).limit(limit + 1)
    if request.args.get("branch_id", type=int):
        stmt = stmt.where(CollectionRun.branch_id == request.args.get("branch_id", type=int))
    before = read_cursor(request.args.get("cursor"))
    if before is not None:
        stmt = stmt.where(CollectionRun.id < before)
    rows = db_session().scalars(stmt).all()
    return jsonify({"items": [_run_json(r) for r in rows[:limit]],
                    "next_cursor": make_cursor(rows[limit - 1].id) if len(rows) > limit else None})


@bp.get("/collections/runs/<int:run_id>")
@require_credit
@schema(query=sch.RunItemsQuery, ok=sch.RunDetail, errors=(403, 404))
def get_collection_run(run_id: int):
    s = db_session()
    reap_dead_runs(s)  # committed with the request
    run = s.get(CollectionRun, run_id)
    if run is None:
        raise NotFound("Execução não encontrada.")
    after = read_cursor(request.args.get("cursor")) or 0
    items = s.scalars(select(CollectionRunItem).where(CollectionRunItem.run_id == run_id,
                                                      CollectionRunItem.id > after)
                      .order_by(CollectionRunItem.id).limit(500)).all()
    body = _run_json(run)
    body["items"] = [{"id": i.id, "action": i.action, "title_id": i.title_id, "party_id": i.party_id,
                      "negativation_id": i.negativation_id, "reason_code": i.reason_code, "message": i.message}
                     for i in items]
    body["next_cursor"] = make_cursor(items[-1].id) if len(items) == 500 else None
    return jsonify(body)
