"""Bulk actions: negativate overdue titles of several clients after one confirmation page, and
remove several negativations by hand with one reason (each through the removal-by-hand rules)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.models.negativations import MANUAL_REMOVAL_REASONS
from app.services.core.clock import today_br
from app.services.negativations import bulk as bulk_service
from app.services.settings.restriction_reasons import describe_code
from app.services.titles import manual_removal

from .common import Capability, actor, credit_required, db_session, requires, services
from .errors import on_error

bp = Blueprint("bulk", __name__, url_prefix="/negativacoes/lote")


@bp.route("/confirmar", methods=["POST"])
@on_error(redirect="titles.index")
@requires(Capability.NEGATIVATE)
@credit_required
def confirm():
    planned = bulk_service.plan(db_session(), request.form.getlist("title_ids"), today_br())
    sendable = [p for p in planned if p.sendable]
    descriptions = {}
    for p in sendable:
        key = (p.title.branch.bureau_integration_id, p.title.party.document_kind, p.restriction_code)
        if key not in descriptions:
            descriptions[key] = describe_code(db_session(), *key)
    return render_template(
        "negativations/bulk_confirm.html", sendable=sendable, held_back=[p for p in planned if not p.sendable],
        clients=len({p.title.party_id for p in sendable}), descriptions=descriptions, today=today_br(),
        back=request.form.get("back") or url_for("titles.index"))


@bp.route("/", methods=["POST"])
@on_error(redirect="titles.index")
@requires(Capability.NEGATIVATE)
@credit_required
def negativate():
    results = bulk_service.negativate(services(), actor(), request.form.getlist("title_ids"), today_br())
    for result in results:
        flash(f"{result.party_name}: {result.message}", "success" if result.ok else "warning")
    return redirect(url_for("negativations.index", origin="manual"))


@bp.route("/remover", methods=["POST"])
@on_error(redirect="negativations.index")
@requires(Capability.NEGATIVATE)
@credit_required
def remove():
    ids = request.form.getlist("ids")
    if not ids:
        flash("Selecione ao menos uma negativação.", "warning")
        return redirect(url_for("negativations.index"))
    reason = request.form.get("reason", "")
    if reason not in MANUAL_REMOVAL_REASONS:
        flash("Escolha o motivo da baixa.", "warning")
        return redirect(url_for("negativations.index"))
    for outcome in manual_removal.remove_by_hand(services(), actor(), ids, reason, note=request.form.get("note", "")):
        flash(outcome.message, "success" if outcome.ok else "warning")
    return redirect(url_for("negativations.index"))
