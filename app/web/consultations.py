"""Consultas de análise de crédito (seed 003): consult from a lead, a contact, a prospect or a client;
the report (printable); the reuse confirmation step; one-click retry; the person's decision.

Everything here disappears with the global switch off; viewers read reports but never consult.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.models import Consultation, Party
from app.models.consultations import PURPOSES
from app.models.parties import STATUS_LABELS
from app.services.consultations import consult as consultation_service
from app.services.consultations.consult import ConsultationFailed
from app.services.consultations.decisions import DECIDING_ROLES, apply_decision
from app.services.consultations.policy import get_policy
from app.services.core.clock import today_br
from app.services.core.errors import DomainError, ValidationError

from .common import (
    ALL_ROLES,
    actor,
    credit_required,
    db_session,
    flash_domain_error,
    roles_required,
    services,
)
from .crm import CONSULT_ROLES, can_consult, party_page_context
from .party_tabs import PartyTab, register_tab

bp = Blueprint("consultations", __name__, url_prefix="/crm")

ORIGINS = ("leads", "contato", "lead", "prospect", "cliente")

register_tab(PartyTab("consultas", "Consultas de análise de crédito", "consultations.party_history",
                      credit=True))


def _party(party_id: int) -> Party:
    party = db_session().get(Party, party_id)
    if party is None:
        abort(404)
    return party


def _consultation(consultation_id: int) -> Consultation:
    row = db_session().get(Consultation, consultation_id)
    if row is None:
        abort(404)
    return row


def _safe_next(party_id: int) -> str:
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("consultations.party_history", party_id=party_id)


def _month_usage(branch_id: int) -> dict:
    s = db_session()
    policy = get_policy(s, branch_id)
    return {"used": consultation_service.used_this_month(s, branch_id, today_br()),
            "quota": policy.monthly_quota, "cost": policy.cost_per_consultation,
            "reuse_days": policy.reuse_days}


@bp.route("/cadastros/<int:party_id>/consultas")
@roles_required(*ALL_ROLES)
@credit_required
def party_history(party_id: int):
    party = _party(party_id)
    rows = consultation_service.history(db_session(), party.id)
    return render_template("crm/consultations.html", active_tab="consultas", rows=rows,
                           usage=_month_usage(party.branch_id), can_retry=consultation_service.can_retry,
                           is_interrupted=consultation_service.is_interrupted, **party_page_context(party))


@bp.route("/cadastros/<int:party_id>/consultar", methods=["POST"])
@roles_required(*CONSULT_ROLES)
@credit_required
def consult(party_id: int):
    contact_raw = request.form.get("contact_id", "")
    origin = request.form.get("origin")
    try:
        outcome = consultation_service.consult_credit(
            services(), actor(), party_id, contact_id=int(contact_raw) if contact_raw.isdigit() else None,
            purpose=request.form.get("purpose") or "cadastro", force_new=request.form.get("force_new") == "1",
            origin=origin if origin in ORIGINS else None)
    except ConsultationFailed as exc:
        flash(exc.notice, "danger")
        return redirect(url_for("consultations.report", consultation_id=exc.consultation_id))
    except DomainError as exc:
        flash_domain_error(exc)
        return redirect(_safe_next(party_id))
    flash(outcome.message, "info" if outcome.reused else "success")
    return redirect(url_for("consultations.report", consultation_id=outcome.consultation_id))


def _render_report(row: Consultation, *, errors: dict | None = None, data=None, status: int = 200):
    if data is None:
        limit = row.decision_limit if row.decision_status else row.suggested_limit
        data = {"status": row.decision_status or row.suggested_status or "",
                "credit_limit": _money_field(limit)}
    return render_template(
        "crm/report.html", c=row, party=row.party, source=row.reused_from,
        can_decide=current_user.has_role(*DECIDING_ROLES), can_consult=can_consult(),
        can_retry=consultation_service.can_retry(row), interrupted=consultation_service.is_interrupted(row),
        statuses=STATUS_LABELS, errors=errors or {}, data=data), status


def _money_field(value) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


@bp.route("/consultas/<int:consultation_id>")
@roles_required(*ALL_ROLES)
@credit_required
def report(consultation_id: int):
    return _render_report(_consultation(consultation_id))


@bp.route("/consultas/<int:consultation_id>/nova")
@roles_required(*CONSULT_ROLES)
@credit_required
def confirm_new(consultation_id: int):
    """The explicit step before a new, charged consultation of a document inside the window (rule 14)."""
    row = _consultation(consultation_id)
    return render_template("crm/consult_confirm.html", c=row, party=row.party, purposes=PURPOSES,
                           usage=_month_usage(row.branch_id))


@bp.route("/consultas/<int:consultation_id>/repetir", methods=["POST"])
@roles_required(*CONSULT_ROLES)
@credit_required
def retry(consultation_id: int):
    row = _consultation(consultation_id)
    try:
        outcome = consultation_service.retry_consultation(
            services(), actor(), row.id, confirm_possible_charge=request.form.get("confirm_possible_charge") == "1")
    except ConsultationFailed as exc:
        flash("A nova tentativa também falhou. " + exc.notice, "danger")
        return redirect(url_for("consultations.report", consultation_id=exc.consultation_id))
    except DomainError as exc:
        flash_domain_error(exc)
        return redirect(url_for("consultations.report", consultation_id=row.id))
    flash(outcome.message, "info" if outcome.reused else "success")
    return redirect(url_for("consultations.report", consultation_id=outcome.consultation_id))


@bp.route("/consultas/<int:consultation_id>/decisao", methods=["POST"])
@roles_required(*DECIDING_ROLES)
@credit_required
def decide(consultation_id: int):
    s = db_session()
    row = _consultation(consultation_id)
    try:
        apply_decision(s, actor(), row.id, status=request.form.get("status", ""),
                       reason=request.form.get("reason", ""), credit_limit=request.form.get("credit_limit"))
        s.commit()
    except ValidationError as exc:
        s.rollback()
        return _render_report(_consultation(consultation_id), errors=flash_domain_error(exc),
                              data=request.form, status=422)
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
        return redirect(url_for("consultations.report", consultation_id=consultation_id))
    flash(f"Decisão aplicada: {row.party.name} agora está com status {row.decision_status}.", "success")
    return redirect(url_for("consultations.report", consultation_id=consultation_id))
