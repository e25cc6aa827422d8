"""Consultas de análise de crédito: consult from a lead, a contact, a prospect or a client; the
report (printable); the reuse confirmation step; one-click retry; the person's decision.

Everything here disappears with the global switch off; viewers read reports but never consult.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.models import Consultation, Party
from app.models.consultations import PURPOSES
from app.models.parties import STATUS_LABELS
from app.safe_redirect import safe_next
from app.services.consultations import consult as consultation_service
from app.services.consultations.consult import ConsultationFailed
from app.services.consultations.decisions import apply_decision
from app.services.consultations.policy import policy_for
from app.services.core.clock import today_br
from app.services.core.errors import ValidationError
from app.services.core.ids import as_id
from app.services.core.money import decimal_br

from .common import Capability, actor, can, credit_required, db_session, requires, services
from .crm import can_consult, party_page_context
from .errors import on_error, redirect_with_message
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


def _next(party_id: int) -> str:
    return safe_next(request.form.get("next"), url_for("consultations.party_history", party_id=party_id))


@bp.errorhandler(ConsultationFailed)
def _failed(exc: ConsultationFailed):
    # The report says why and offers the retry; `notice` says whether it was charged (a lost answer may
    # have been: "incerta — pode ter sido cobrada").
    again = "A nova tentativa também falhou. " if request.endpoint == "consultations.retry" else ""
    return redirect_with_message(url_for("consultations.report", consultation_id=exc.consultation_id),
                                 again + exc.notice)


def _month_usage(branch_id: int) -> dict:
    s = db_session()
    policy = policy_for(s, branch_id)
    return {"used": consultation_service.used_this_month(s, branch_id, today_br()),
            "quota": policy.monthly_quota, "cost": policy.cost_per_consultation,
            "reuse_days": policy.reuse_days}


@bp.route("/cadastros/<int:party_id>/consultas")
@requires(Capability.READ)
@credit_required
def party_history(party_id: int):
    party = _party(party_id)
    rows = consultation_service.history(db_session(), party.id)
    return render_template("crm/consultations.html", active_tab="consultas", rows=rows,
                           usage=_month_usage(party.branch_id), can_retry=consultation_service.can_retry,
                           is_interrupted=consultation_service.is_interrupted, **party_page_context(party))


@bp.route("/cadastros/<int:party_id>/consultar", methods=["POST"])
@on_error(redirect=_next)
@requires(Capability.CONSULT)
@credit_required
def consult(party_id: int):
    origin = request.form.get("origin")
    outcome = consultation_service.consult_credit(
        services(), actor(), party_id, contact_id=as_id(request.form.get("contact_id")),
        purpose=request.form.get("purpose") or "cadastro", force_new=request.form.get("force_new") == "1",
        origin=origin if origin in ORIGINS else None)
    flash(outcome.message, "info" if outcome.reused else "success")
    return redirect(url_for("consultations.report", consultation_id=outcome.consultation_id))


def _render_report(row: Consultation, *, errors: dict | None = None, data=None):
    if data is None:
        limit = row.decision_limit if row.decision_status else row.suggested_limit
        data = {"status": row.decision_status or row.suggested_status or "", "credit_limit": decimal_br(limit)}
    return render_template(
        "crm/report.html", c=row, party=row.party, source=row.reused_from,
        can_decide=can(Capability.DECIDE_CREDIT), can_consult=can_consult(),
        can_retry=consultation_service.can_retry(row), interrupted=consultation_service.is_interrupted(row),
        statuses=STATUS_LABELS, errors=errors or {}, data=data)


@bp.route("/consultas/<int:consultation_id>")
@requires(Capability.READ)
@credit_required
def report(consultation_id: int):
    return _render_report(_consultation(consultation_id))


@bp.route("/consultas/<int:consultation_id>/nova")
@requires(Capability.CONSULT)
@credit_required
def confirm_new(consultation_id: int):
    """The explicit step before a new, charged consultation of a document inside the window (rule 14)."""
    row = _consultation(consultation_id)
    return render_template("crm/consult_confirm.html", c=row, party=row.party, purposes=PURPOSES,
                           usage=_month_usage(row.branch_id))


@bp.route("/consultas/<int:consultation_id>/repetir", methods=["POST"])
@on_error(redirect="consultations.report")
@requires(Capability.CONSULT)
@credit_required
def retry(consultation_id: int):
    row = _consultation(consultation_id)
    outcome = consultation_service.retry_consultation(
        services(), actor(), row.id, confirm_possible_charge=request.form.get("confirm_possible_charge") == "1")
    flash(outcome.message, "info" if outcome.reused else "success")
    return redirect(url_for("consultations.report", consultation_id=outcome.consultation_id))


@bp.route("/consultas/<int:consultation_id>/decisao", methods=["POST"])
@on_error(redirect="consultations.report", form_errors=ValidationError, status=422,
          form=lambda data, errors, consultation_id: _render_report(_consultation(consultation_id), errors=errors,
                                                                    data=data))
@requires(Capability.DECIDE_CREDIT)
@credit_required
def decide(consultation_id: int):
    row = _consultation(consultation_id)
    apply_decision(db_session(), actor(), row.id, status=request.form.get("status", ""),
                   reason=request.form.get("reason", ""), credit_limit=request.form.get("credit_limit"))
    flash(f"Decisão aplicada: {row.party.name} agora está com status {row.decision_status}.", "success")
    return redirect(url_for("consultations.report", consultation_id=consultation_id))
