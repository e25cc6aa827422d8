"""API: the collections dashboard ("Painel de cobrança") as JSON, the same figures as the page.

Money is a string with two decimals ("1234.50"), percentages a string with one decimal ("62.5")
or null when nothing was negativated, dates ISO 8601.
"""

from __future__ import annotations

import datetime as dt

from flask import jsonify, request

from app.models import Branch
from app.request_scope import db_session
from app.services.collections import dashboard as dashboard_service
from app.services.core.clock import today_br
from app.services.core.errors import NotFound, ValidationError
from app.services.core.ids import as_id

from . import Capability, bp, require, require_credit
from .schemas.dashboard import DashboardOut, DashboardQuery
from .validation import schema


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _str(value) -> str | None:
    return None if value is None else str(value)


def dashboard_json(d: dashboard_service.Dashboard) -> dict:
    return {
        "today": d.today.isoformat(),
        "branch_id": d.branch_id,
        "aging": {
            "count": d.aging.count,
            "amount": str(d.aging.amount),
            "buckets": [
                {"key": b.key, "label": b.label, "count": b.count, "amount": str(b.amount)} for b in d.aging.buckets
            ],
        },
        "negativations_by_status": [
            {"status": s.status, "label": s.label, "count": s.count, "amount": str(s.amount)}
            for s in d.negativations
        ],
        "removals": {
            "since": d.removals.since.isoformat(),
            "total": d.removals.total,
            "late": d.removals.late_count,
            "near_deadline": d.removals.near_count,
            "stuck": d.removals.stuck_count,
            "truncated": d.removals.truncated,
            "categories": [
                {"key": c.key, "label": c.label, "count": c.count, "amount": str(c.amount), "late": c.late,
                 "alert": c.alert}
                for c in d.removals.categories
            ],
            "rows": [
                {
                    "negativation_id": r.negativation_id,
                    "party_name": r.party_name,
                    "branch_name": r.branch_name,
                    "status": r.status,
                    "status_label": r.status_label,
                    "removal_reason": r.reason_label,
                    "amount": str(r.amount),
                    "paid_on": _iso(r.paid_on),
                    "removal_deadline": _iso(r.removal_deadline),
                    "removed_at": _iso(r.removed_at),
                    "category": r.category,
                    "late": r.late,
                    "near_deadline": r.near_deadline,
                    "stuck": r.stuck,
                }
                for r in d.removals.rows
            ],
        },
        "recovery": {
            "min_age_days": d.recovery.min_age_days,
            "accepted_until": d.recovery.accepted_until.isoformat(),
            "negativations": d.recovery.negativations,
            "amount_sent": str(d.recovery.amount_sent),
            "windows": [
                {"days": w.days, "amount_paid": str(w.amount_paid), "share_percent": _str(w.share_percent)}
                for w in d.recovery.windows
            ],
        },
        "runs": {
            "since": d.runs.since.isoformat(),
            "total_runs": d.runs.total_runs,
            "total_included": d.runs.total_included,
            "total_removed": d.runs.total_removed,
            "days": [
                {"day": r.day.isoformat(), "runs": r.runs, "by_status": r.by_status, "included": r.included,
                 "removed": r.removed}
                for r in d.runs.days
            ],
        },
    }


@bp.get("/dashboard")
@require(Capability.READ)
@require_credit
@schema(query=DashboardQuery, ok=DashboardOut, errors=(403, 404))
def dashboard():
    s = db_session()
    raw = request.args.get("branch_id", "").strip()
    branch_id = None
    if raw:
        branch_id = as_id(raw)
        if branch_id is None:
            raise ValidationError("'branch_id' deve ser um número inteiro positivo.",
                                  field_errors={"branch_id": "inteiro"})
        if s.get(Branch, branch_id) is None:
            raise NotFound("Filial não encontrada.")
    return jsonify(dashboard_json(dashboard_service.dashboard(s, branch_id=branch_id, today=today_br())))
