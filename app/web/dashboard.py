"""Painel de cobrança: overdue by aging, negativations by status, removals and their legal
deadline, recovery after negativation, collection runs of the last 30 days.

Charts are server-side SVG (`app.web.charts`): no JavaScript, no CDN. Every chart has its figures
next to it in a small table, for screen readers and for print.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import Blueprint, current_app, flash, render_template, request

from app.models import Branch
from app.services.collections import dashboard as dashboard_service
from app.services.collections.dashboard.runs import RUN_STATUS_LABELS
from app.services.core.clock import now_br, today_br
from app.services.core.ids import as_id
from app.services.reconciliation.queries import open_counts

from .charts import bar_chart, column_chart
from .common import Capability, credit_required, db_session, request_branches, requires
from .formatting import brl, decimal_br

bp = Blueprint("dashboard", __name__, url_prefix="/cobranca")


def percent_br(value: Decimal | None) -> str:
    """Decimal('62.5') -> '62,5%'; None (nothing negativated) -> '—'."""
    return "—" if value is None else decimal_br(value, 1) + "%"


def _count_label(value) -> str:
    return f"{int(value):,}".replace(",", ".")


def branch_arg(session, raw: str | None) -> tuple[int | None, bool]:
    """(branch id or None for all, whether the given value was valid)."""
    raw = (raw or "").strip()
    if not raw:
        return None, True
    branch_id = as_id(raw)
    if branch_id is None or session.get(Branch, branch_id) is None:
        return None, False
    return branch_id, True


# Removal bars by meaning: late ones red (through `highlight`), near the deadline amber, in time
# blue or green, without a deadline grey; red means late and nothing else.
REMOVAL_COLORS = {
    "removed_late": "#b42318",
    "pending_late": "#b42318",
    "pending_near": "#a15c00",
    "pending_stuck": "#a15c00",
    "pending": "#0b5cad",
    "removed_on_time": "#1b7f3b",
    "no_deadline": "#5c6b7a",
}


def charts_for(data: dashboard_service.Dashboard) -> dict:
    """The SVG charts of the panel (Markup), built from the same figures the tables show."""
    removal_items = [(c.short_label, c.count) for c in data.removals.categories]
    runs_series = list(RUN_STATUS_LABELS)
    return {
        "aging": bar_chart(
            [(b.label, b.amount) for b in data.aging.buckets],
            title="Valor vencido em aberto por faixa de atraso",
            value_label=brl,
        ),
        "negativations": bar_chart(
            [(s.label, s.count) for s in data.negativations],
            title="Negativações por status (quantidade)",
            value_label=_count_label,
        ),
        "removals": bar_chart(
            removal_items,
            title="Baixas e prazo legal (Súmula 548 STJ)",
            value_label=_count_label,
            highlight={c.short_label for c in data.removals.categories if c.late},
            colors=[REMOVAL_COLORS[c.key] for c in data.removals.categories],
        ),
        "recovery": bar_chart(
            [(f"Até {w.days} dias", w.share_percent) for w in data.recovery.windows],  # None: "—", no bar
            title="Recuperação após a negativação (% do valor negativado pago)",
            value_label=percent_br,
        ),
        "runs": column_chart(
            [(d.day.strftime("%d/%m"), [d.by_status.get(s, 0) for s in runs_series]) for d in data.runs.days],
            title="Execuções da rotina por dia (sem simulações)",
            series=[RUN_STATUS_LABELS[s] for s in runs_series],
        ),
        "moves": column_chart(
            [(d.day.strftime("%d/%m"), [d.included, d.removed]) for d in data.runs.days],
            title="Negativações incluídas e baixadas pela rotina por dia",
            series=["Incluídas", "Baixadas"],
            colors=["#0b5cad", "#1b7f3b"],
        ),
    }


@dataclass(frozen=True)
class Position:
    data: dashboard_service.Dashboard
    charts: dict
    taken_at: datetime  # Brasília: shown on the page as the position's time
    read_at: float  # monotonic


_POSITIONS = "credit_desk.panel_positions"


def position(session, branch_id: int | None, *, refresh: bool) -> Position:
    """The panel's figures, kept per web process for DASHBOARD_CACHE_SECONDS by branch and day: the
    panel runs five aggregate queries and builds six charts, a few times the cost of a list page,
    and is the page a finance team leaves open and reloads. The page shows the position's time and
    "Atualizar agora" (`refresh`) computes it again."""
    ttl = current_app.config.get("DASHBOARD_CACHE_SECONDS", 60)
    positions = current_app.extensions.setdefault(_POSITIONS, {})
    key, now = (branch_id, today_br()), time.monotonic()
    kept = positions.get(key)
    if kept is not None and not refresh and now - kept.read_at < ttl:
        return kept
    data = dashboard_service.dashboard(session, branch_id=branch_id, today=key[1])
    fresh = Position(data=data, charts=charts_for(data), taken_at=now_br(), read_at=now)
    if ttl > 0:
        for old in [k for k, p in positions.items() if now - p.read_at >= ttl]:
            positions.pop(old, None)  # another day's or branch's expired figures
        positions[key] = fresh
    return fresh


@bp.route("/painel")
@requires(Capability.READ)
@credit_required
def index():
    s = db_session()
    branch_id, valid = branch_arg(s, request.args.get("branch_id"))
    if not valid:
        flash("Filial inexistente; mostrando todas as filiais.", "warning")
    shown = position(s, branch_id, refresh=request.args.get("atualizar") == "1")
    data = shown.data
    branches = request_branches()
    return render_template(
        "dashboard/index.html",
        data=data,
        taken_at=shown.taken_at,
        cached=current_app.config.get("DASHBOARD_CACHE_SECONDS", 60) > 0,
        charts=shown.charts,
        branches=branches,
        branch_id=branch_id,
        run_labels=RUN_STATUS_LABELS,
        percent=percent_br,
        divergences=open_counts(s, branch_id),
    )
