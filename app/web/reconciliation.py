"""Conciliação: divergences with the bureau by kind and branch, their evidence, one-click actions,
"Conciliar agora" and the history of runs. Domain errors propagate to the app's handler."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Branch
from app.models.negativations import REMOVAL_REASON_LABELS
from app.models.reconciliation import DIVERGENCE_KIND_LABELS
from app.services.core.ids import as_id
from app.services.reconciliation import actions, queries
from app.services.reconciliation.actions import MARKABLE_REASONS
from app.services.reconciliation.runs import STATUS_LABELS, queue_runs

from .common import Capability, actor, can, credit_required, db_session, page_args, requires, services

bp = Blueprint("reconciliation", __name__, url_prefix="/conciliacao")
TRIGGER_LABELS = {"scheduled": "Agendada", "catch_up": "Recuperação", "manual": "Manual", "api": "API", "cli": "CLI"}
# The actions that fix each kind (the page shows only these), besides "Verificar agora".
KIND_ACTIONS = {
    "removed_at_bureau": ("mark_removed", "update_status"),
    "live_at_bureau": ("resend_removal",),
    "unknown_protocol": ("mark_removed",),
    "settled_but_live": ("resend_removal",),
    "notice_over": ("update_status",),
    "amount_differs": (),
}


@bp.app_context_processor
def _labels():
    return {"divergence_kind_labels": {k.value: v for k, v in DIVERGENCE_KIND_LABELS.items()},
            "recon_status_labels": STATUS_LABELS, "recon_trigger_labels": TRIGGER_LABELS}


def _int_arg(name: str) -> int | None:
    return as_id(request.values.get(name))


@bp.route("/")
@requires(Capability.READ)
@credit_required
def index():
    s = db_session()
    page, size = page_args(50)
    status = request.args.get("status", "open")
    kind = request.args.get("kind") if request.args.get("kind") in KIND_ACTIONS else None
    branch_id = _int_arg("branch_id")
    rows = queries.list_divergences(s, status=status if status in ("open", "closed") else None, kind=kind,
                                    branch_id=branch_id, limit=size + 1, offset=(page - 1) * size)
    active = queries.active_runs(s)
    return render_template(
        "reconciliation/index.html", rows=rows[:size], has_next=len(rows) > size, page=page, args=request.args,
        counts=queries.open_counts(s, branch_id), by_branch=queries.open_by_branch(s), active=active,
        last_runs=queries.list_runs(s, limit=5), kind_actions=KIND_ACTIONS,
        branches=s.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.name)).all(),
        reasons=[(r, REMOVAL_REASON_LABELS[r]) for r in MARKABLE_REASONS], status=status, kind=kind,
        branch_id=branch_id, can_write=can(Capability.NEGATIVATE))


@bp.route("/conciliar", methods=["POST"])
@requires(Capability.NEGATIVATE)
@credit_required
def run_now():
    s = db_session()
    runs = queue_runs(s, actor(), _int_arg("branch_id"))  # the request scope commits
    numbers = ", ".join(f"nº {r.id}" for r in runs)
    flash(f"Conciliação {numbers} na fila: o agendador a inicia em até 30 segundos e esta página se atualiza "
          "sozinha até terminar.", "success")
    return redirect(url_for("reconciliation.index"))


@bp.route("/execucoes")
@requires(Capability.READ)
@credit_required
def runs():
    s = db_session()
    page, size = page_args(30)
    rows = queries.list_runs(s, branch_id=_int_arg("branch_id"), limit=size + 1, offset=(page - 1) * size)
    return render_template("reconciliation/runs.html", runs=rows[:size], has_next=len(rows) > size, page=page,
                           args=request.args)


def _back():
    target = request.form.get("next", "")
    # Only a path of this site: never an open redirect.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("reconciliation.index")
    return redirect(target)


@bp.route("/divergencias/<int:divergence_id>/verificar", methods=["POST"])
@requires(Capability.NEGATIVATE)
@credit_required
def recheck(divergence_id: int):
    result = actions.recheck_divergence(services(), actor(), divergence_id)
    closed = f" {result.closed} divergência(s) fechada(s)." if result.closed else ""
    category = "success" if result.outcome == "checked" else "warning"
    flash(f"Verificação da negativação nº {result.negativation_id}: {result.message}{closed}", category)
    return _back()


@bp.route("/divergencias/<int:divergence_id>/reenviar-baixa", methods=["POST"])
@requires(Capability.NEGATIVATE)
@credit_required
def resend_removal(divergence_id: int):
    outcome = actions.resend_removal(services(), actor(), divergence_id)
    flash(outcome.message + " Use \"Verificar agora\" para conferir com o bureau.",
          "success" if outcome.ok else "warning")
    return _back()


@bp.route("/divergencias/<int:divergence_id>/registrar-baixa", methods=["POST"])
@requires(Capability.NEGATIVATE)
@credit_required
def mark_removed(divergence_id: int):
    outcome = actions.mark_removed(services(), actor(), divergence_id, request.form.get("reason", ""),
                                   note=request.form.get("note", "").strip()[:200])
    flash(outcome.message, "success")
    return _back()


@bp.route("/divergencias/<int:divergence_id>/atualizar-status", methods=["POST"])
@requires(Capability.NEGATIVATE)
@credit_required
def update_status(divergence_id: int):
    outcome = actions.update_status(services(), actor(), divergence_id)
    flash(outcome.message, "success" if outcome.ok else "warning")
    return _back()
