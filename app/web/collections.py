"""Cobrança: parameters per branch, "Simular" / "Executar agora", run history and run detail."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.models import Branch, CollectionRun, CollectionRunItem, Party, Title
from app.services.collections import policy as cp
from app.services.collections.attention import RUN_PROBLEM_STATUSES
from app.services.collections.liveness import reap_dead_runs
from app.services.collections.routine import run_branch
from app.services.collections.run_records import STATUS_LABELS, manual_run_blocker, queue_run
from app.services.collections.schedule import next_run_at
from app.services.core.clock import today_br
from app.services.negativations.eligibility import REASON_LABELS

from .common import (
    Capability,
    actor,
    checkbox,
    credit_required,
    db_session,
    form_id,
    id_arg,
    page_args,
    requires,
    services,
)
from .errors import on_error

bp = Blueprint("collections", __name__, url_prefix="/cobranca")
ACTION_LABELS = {"include": "Incluída", "would_include": "Seria incluída", "remove": "Baixada",
                 "would_remove": "Seria baixada", "skip": "Ignorado", "error": "Erro",
                 "pending": "Pendente (reenvio automático)"}
TRIGGER_LABELS = {"scheduled": "Agendada", "catch_up": "Recuperação", "manual": "Manual", "api": "API", "cli": "CLI"}


@bp.app_context_processor
def _labels():
    return {"run_status_labels": STATUS_LABELS, "trigger_labels": TRIGGER_LABELS, "action_labels": ACTION_LABELS,
            "reason_labels": REASON_LABELS | {"changed": "Título alterado durante a execução"}}


@bp.route("/parametros")
@requires(Capability.READ)
@credit_required
def parameters():
    s = db_session()
    rows = []
    for branch in s.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.name)):
        policy = cp.policy_for(s, branch.id)
        rows.append({"branch": branch, "policy": policy, "blockers": cp.blockers(policy, branch),
                     "next_run": next_run_at(policy) if policy.enabled else None})
    return render_template("collections/parameters.html", rows=rows)


def _parameters_form(branch_id: int, data=None, errors=None):
    s = db_session()
    branch = s.get(Branch, branch_id)
    if branch is None:
        flash("Filial não encontrada.", "warning")
        return redirect(url_for("collections.parameters"))
    if data is None:
        p = cp.policy_for(s, branch_id)
        data = {"enabled": p.enabled, "handle_by_title": "sim" if p.handle_by_title else "nao",
                "days_to_execute": p.days_to_execute, "grouping": p.grouping, "run_time": p.run_time,
                "max_concurrency": p.max_concurrency, "rate_limit_per_s": p.rate_limit_per_s or ""}
    return render_template("collections/parameters_form.html", branch=branch, data=data, errors=errors or {},
                           groupings=cp.GROUPINGS, blockers=cp.blockers(cp.policy_for(s, branch_id), branch))


@bp.route("/parametros/<int:branch_id>", methods=["GET", "POST"])
@on_error(form=lambda data, errors, branch_id: _parameters_form(branch_id, data, errors),
          posted=lambda: dict(request.form, enabled=checkbox("enabled")))
@requires(Capability.MANAGE_SETTINGS)
@credit_required
def edit_parameters(branch_id: int):
    if db_session().get(Branch, branch_id) is None:
        return _parameters_form(branch_id)
    if request.method == "POST":
        data = cp.CollectionPolicyInput(
            enabled=checkbox("enabled"), handle_by_title=request.form.get("handle_by_title") == "sim",
            days_to_execute=request.form.get("days_to_execute", ""), grouping=request.form.get("grouping", ""),
            run_time=request.form.get("run_time", ""), max_concurrency=request.form.get("max_concurrency", "4"),
            rate_limit_per_s=request.form.get("rate_limit_per_s") or None)
        cp.save_collection_policy(db_session(), actor(), branch_id, data)
        flash("Parâmetros de cobrança salvos. O novo horário vale a partir do próximo minuto.", "success")
        return redirect(url_for("collections.parameters"))
    return _parameters_form(branch_id)


@bp.route("/execucoes")
@requires(Capability.READ)
@credit_required
def runs():
    s = db_session()
    # A run whose process is gone shows as "interrompida", not "em andamento" (committed with the request).
    reap_dead_runs(s)
    page, size = page_args(30)
    stmt = select(CollectionRun).order_by(CollectionRun.id.desc())
    branch_id = id_arg("branch_id")
    if branch_id is not None:
        stmt = stmt.where(CollectionRun.branch_id == branch_id)
    if request.args.get("status") == "problem":  # the home page's "com falha ou interrompidas"
        stmt = stmt.where(CollectionRun.status.in_(RUN_PROBLEM_STATUSES))
    kind = request.args.get("kind", "")
    if kind == "dry":
        stmt = stmt.where(CollectionRun.dry_run.is_(True))
    elif kind == "real":
        stmt = stmt.where(CollectionRun.dry_run.is_(False))
    rows = s.scalars(stmt.offset((page - 1) * size).limit(size + 1)).all()
    branches = s.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.id)).all()
    return render_template("collections/runs.html", runs=rows[:size], has_next=len(rows) > size, page=page,
                           branches=branches, args=request.args)


def _branch_from_form() -> int | None:
    return form_id("branch_id")


@bp.route("/simular", methods=["POST"])
@on_error(redirect="collections.runs")
@requires(Capability.RUN_COLLECTIONS)
@credit_required
def simulate():
    branch_id = _branch_from_form()
    if branch_id is None:
        flash("Escolha a filial para simular.", "warning")
        return redirect(url_for("collections.runs"))
    branch = db_session().get(Branch, branch_id)
    blocked = manual_run_blocker(db_session(), branch) if branch is not None else None
    summary = run_branch(services(), actor(), branch_id, dry_run=True, trigger="manual", today=today_br())
    if blocked:  # the same reason "Executar agora" gives, not a "concluída, 0" that reads as all clear
        flash(f"{blocked} A simulação abaixo mostra o que seria selecionado depois de corrigir isso.", "warning")
    else:
        flash("Simulação concluída: nada foi enviado ao bureau. Veja abaixo o que seria incluído, baixado e "
              "ignorado.", "success")
    return redirect(url_for("collections.run_detail", run_id=summary.run_id))


@bp.route("/executar", methods=["POST"])
@on_error(redirect="collections.runs")
@requires(Capability.RUN_COLLECTIONS)
@credit_required
def execute():
    branch_id = _branch_from_form()
    if branch_id is None:
        flash("Escolha a filial para executar.", "warning")
        return redirect(url_for("collections.runs"))
    run = queue_run(db_session(), actor(), branch_id)
    flash(f"Execução nº {run.id} na fila: o agendador a inicia em até 1 minuto. Atualize a página para "
          "acompanhar.", "success")
    return redirect(url_for("collections.run_detail", run_id=run.id))


@bp.route("/execucoes/<int:run_id>")
@requires(Capability.READ)
@credit_required
def run_detail(run_id: int):
    s = db_session()
    reap_dead_runs(s)  # committed with the request
    run = s.get(CollectionRun, run_id)
    if run is None:
        flash("Execução não encontrada.", "warning")
        return redirect(url_for("collections.runs"))
    page, size = page_args(100, 500)
    action = request.args.get("action", "")
    stmt = select(CollectionRunItem).where(CollectionRunItem.run_id == run_id)
    if action:
        stmt = stmt.where(CollectionRunItem.action == action)
    items = s.scalars(stmt.order_by(CollectionRunItem.id).offset((page - 1) * size).limit(size + 1)).all()
    by_action = dict(s.execute(select(CollectionRunItem.action, func.count()).where(
        CollectionRunItem.run_id == run_id).group_by(CollectionRunItem.action)).all())
    has_next, items = len(items) > size, items[:size]
    title_ids = {i.title_id for i in items if i.title_id}
    party_ids = {i.party_id for i in items if i.party_id}
    numbers = dict(s.execute(select(Title.id, Title.number).where(Title.id.in_(title_ids))).all()) if title_ids else {}
    names = dict(s.execute(select(Party.id, Party.name).where(Party.id.in_(party_ids))).all()) if party_ids else {}
    return render_template("collections/run_detail.html", run=run, items=items, has_next=has_next,
                           page=page, by_action=by_action, args=request.args, numbers=numbers, names=names)
