"""Negativação de crédito: the client's tabs (Títulos, Negativação de crédito), the manual
inclusion and removal pages, the global list, the detail, and the branch policy form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.models import Branch, Negativation, Party
from app.models.negativations import NEGATIVATION_STATUS_LABELS, REMOVAL_REASON_LABELS
from app.services.core.clock import today_br
from app.services.core.errors import DomainError
from app.services.negativations import inclusion as neg_inclusion
from app.services.negativations import outbox as neg_outbox
from app.services.negativations import policy as branch_policy
from app.services.negativations.eligibility import Criteria, evaluate_party
from app.services.negativations.outcomes import Outcome
from app.services.settings import restriction_reasons
from app.services.titles import lifecycle as title_service
from app.services.titles import manual_removal

from .common import (
    ALL_ROLES,
    actor,
    credit_required,
    db_session,
    flash_domain_error,
    roles_required,
    services,
)
from .party_tabs import PartyTab, register_tab

bp = Blueprint("negativations", __name__)
WRITERS = ("admin", "finance")
MANUAL_REMOVAL_REASONS = {k: v for k, v in REMOVAL_REASON_LABELS.items() if k != "expired"}

register_tab(PartyTab("titles", "Títulos", "negativations.party_titles", stages=("client",)))
register_tab(
    PartyTab(
        "negativations",
        "Negativação de crédito",
        "negativations.party_negativations",
        stages=("client",),
        credit=True,
    )
)


def _client(party_id: int) -> Party | None:
    party = db_session().get(Party, party_id)
    return party if party is not None and party.stage == "client" else None


def _flash_outcome(outcome: Outcome) -> None:
    flash(outcome.message, "success" if outcome.ok else "danger" if outcome.status == "error" else "warning")


@bp.route("/clientes/<int:party_id>/titulos")
@roles_required(*ALL_ROLES)
def party_titles(party_id: int):
    party = _client(party_id)
    if party is None:
        return render_template("errors/404.html"), 404
    page = title_service.list_titles(
        db_session(),
        title_service.TitleFilter(party_id=party_id),
        today=today_br(),
        cursor=request.args.get("cursor") or None,
        limit=100,
    )
    return render_template(
        "negativations/party_titles.html",
        party=party,
        page=page,
        today=today_br(),
        active_tab="titles",
        args=request.args,
        can_write=current_user.has_role(*WRITERS),
    )


@bp.route("/clientes/<int:party_id>/negativacoes")
@roles_required(*ALL_ROLES)
@credit_required
def party_negativations(party_id: int):
    party = _client(party_id)
    if party is None:
        return render_template("errors/404.html"), 404
    rows = (
        db_session()
        .scalars(
            select(Negativation).where(Negativation.party_id == party_id).order_by(Negativation.id.desc())
        )
        .all()
    )
    return render_template(
        "negativations/party_tab.html",
        party=party,
        rows=rows,
        active_tab="negativations",
        can_write=current_user.has_role(*WRITERS),
    )


@bp.route("/clientes/<int:party_id>/negativacoes/incluir", methods=["GET", "POST"])
@roles_required(*WRITERS)
@credit_required
def include(party_id: int):
    s = db_session()
    party = _client(party_id)
    if party is None:
        return render_template("errors/404.html"), 404
    chosen = request.values.get("restriction_code", "")
    if request.method == "POST":
        try:
            outcome = neg_inclusion.negativate_titles(
                services(), actor(), party_id, request.form.getlist("title_ids"), chosen,
                confirm_after_manual_removal=request.form.get("confirm_after_manual_removal") == "1",
            )
        except DomainError as exc:
            flash_domain_error(exc)
        else:
            _flash_outcome(outcome)
            return redirect(url_for("negativations.detail", negativation_id=outcome.negativation_id))
    reasons = restriction_reasons.cached_reasons(party.branch.integration, party.person_type)
    if request.args.get("buscar"):  # "Buscar motivos restrição": always ask the bureau
        try:
            reasons = restriction_reasons.reasons_for_party(services(), party_id, refresh=True).items
            flash(f"{len(reasons)} motivo(s) de restrição recebidos do bureau.", "info")
        except DomainError as exc:
            flash_domain_error(exc)
    elif not reasons and party.branch.integration is not None and party.person_type:
        try:
            reasons = restriction_reasons.reasons_for_party(services(), party_id).items
        except DomainError as exc:
            flash_domain_error(exc)
    rows = evaluate_party(s, party_id, Criteria(today_br()))
    return render_template(
        "negativations/include.html",
        party=party,
        rows=rows,
        reasons=reasons,
        chosen=chosen,
        selected=set(request.form.getlist("title_ids")),
        today=today_br(),
        active_tab="negativations",
    )


@bp.route("/clientes/<int:party_id>/negativacoes/remover", methods=["GET", "POST"])
@roles_required(*WRITERS)
@credit_required
def remove(party_id: int):
    party = _client(party_id)
    if party is None:
        return render_template("errors/404.html"), 404
    if request.method == "POST":
        try:
            outcomes = manual_removal.remove_by_hand(
                services(),
                actor(),
                request.form.getlist("ids"),
                request.form.get("reason", ""),
                note=request.form.get("note", ""),
            )
        except DomainError as exc:
            flash_domain_error(exc)
        else:
            for outcome in outcomes:
                _flash_outcome(outcome)
            return redirect(url_for("negativations.party_negativations", party_id=party_id))
    rows = (
        db_session()
        .scalars(
            select(Negativation)
            .where(
                Negativation.party_id == party_id, Negativation.status.in_(("pending", "notice", "active"))
            )
            .order_by(Negativation.id.desc())
        )
        .all()
    )
    return render_template(
        "negativations/remove.html",
        party=party,
        rows=rows,
        reasons=MANUAL_REMOVAL_REASONS,
        active_tab="negativations",
    )


@bp.route("/negativacoes/")
@roles_required(*ALL_ROLES)
@credit_required
def index():
    status = request.args.get("status") or None
    stmt = select(Negativation).order_by(Negativation.id.desc()).limit(51)
    if status in NEGATIVATION_STATUS_LABELS:
        stmt = stmt.where(Negativation.status == status)
    before = request.args.get("before", "")
    if before.isdigit():
        stmt = stmt.where(Negativation.id < int(before))
    rows = db_session().scalars(stmt).all()
    return render_template(
        "negativations/index.html",
        rows=rows[:50],
        has_next=len(rows) > 50,
        statuses=NEGATIVATION_STATUS_LABELS,
        status=status,
        args=request.args,
        today=today_br(),
    )


@bp.route("/negativacoes/<int:negativation_id>")
@roles_required(*ALL_ROLES)
@credit_required
def detail(negativation_id: int):
    neg = db_session().get(Negativation, negativation_id)
    if neg is None:
        return render_template("errors/404.html"), 404
    return render_template(
        "negativations/detail.html", neg=neg, today=today_br(), can_write=current_user.has_role(*WRITERS)
    )


@bp.route("/negativacoes/<int:negativation_id>/atualizar-status", methods=["POST"])
@roles_required(*ALL_ROLES)
@credit_required
def refresh(negativation_id: int):
    try:
        _flash_outcome(neg_outbox.refresh_status(services(), actor(), negativation_id))
    except DomainError as exc:
        flash_domain_error(exc)
    return redirect(url_for("negativations.detail", negativation_id=negativation_id))


@bp.route("/negativacoes/<int:negativation_id>/reenviar", methods=["POST"])
@roles_required(*WRITERS)
@credit_required
def resend(negativation_id: int):
    try:
        _flash_outcome(
            neg_inclusion.resend(
                services(),
                actor(),
                negativation_id,
                restriction_code=request.form.get("restriction_code") or None,
            )
        )
    except DomainError as exc:
        flash_domain_error(exc)
    return redirect(url_for("negativations.detail", negativation_id=negativation_id))


@bp.route("/negativacoes/politicas/<int:branch_id>", methods=["GET", "POST"])
@roles_required("admin")
def policy(branch_id: int):
    s = db_session()
    branch = s.get(Branch, branch_id)
    if branch is None:
        return render_template("errors/404.html"), 404
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            branch_policy.save_policy(
                s,
                actor(),
                branch_id,
                min_amount=request.form.get("min_amount", ""),
                prescription_years=request.form.get("prescription_years", ""),
                notice_days=request.form.get("notice_days", ""),
            )
            s.commit()
            flash("Política de negativação salva.", "success")
            return redirect(url_for("negativations.policy", branch_id=branch_id))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
        data = dict(request.form)
    else:
        values = branch_policy.policy_for(s, branch_id)
        data = {
            "min_amount": f"{values.min_amount:.2f}".replace(".", ","),
            "prescription_years": values.prescription_years,
            "notice_days": values.notice_days,
        }
    branches = s.scalars(select(Branch).order_by(Branch.name)).all()
    return render_template(
        "negativations/policy.html", branch=branch, branches=branches, data=data, errors=errors
    )
