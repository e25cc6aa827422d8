"""Negativação de crédito: the client's tabs (Títulos, Negativação de crédito), the manual
inclusion and removal pages, the global list, the detail, and the branch policy form."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select

from app.models import Branch, Negativation, Party
from app.models.negativations import MANUAL_REMOVAL_REASONS, NEGATIVATION_STATUS_LABELS, REMOVABLE_STATUSES
from app.services.core.clock import today_br
from app.services.core.money import decimal_br
from app.services.negativations import filters as neg_filters
from app.services.negativations import inclusion as neg_inclusion
from app.services.negativations import listing
from app.services.negativations import outbox as neg_outbox
from app.services.negativations import policy as branch_policy
from app.services.negativations.eligibility import Criteria, evaluate_party
from app.services.negativations.outcomes import Outcome
from app.services.settings import restriction_reasons
from app.services.titles import lifecycle as title_service
from app.services.titles import manual_removal

from .common import Capability, actor, can, credit_required, db_session, id_arg, request_branches, requires, services
from .errors import on_error, optional_step
from .party_tabs import PartyTab, register_tab

bp = Blueprint("negativations", __name__)

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
@on_error(redirect="negativations.party_titles")  # a damaged cursor: the tab's first page, with the message
@requires(Capability.READ)
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
        table_only=True,
    )
    return render_template(
        "negativations/party_titles.html",
        party=party,
        page=page,
        today=today_br(),
        active_tab="titles",
        args=request.args,
        can_write=can(Capability.MANAGE_TITLES),
    )


@bp.route("/clientes/<int:party_id>/negativacoes")
@requires(Capability.READ)
@credit_required
def party_negativations(party_id: int):
    party = _client(party_id)
    if party is None:
        return render_template("errors/404.html"), 404
    return render_template(
        "negativations/party_tab.html",
        party=party,
        rows=listing.of_party(db_session(), party_id),
        active_tab="negativations",
        can_write=can(Capability.NEGATIVATE),
    )


def _include_page(party_id: int, data=None, errors=None):
    party = _client(party_id)
    if party is None:
        return render_template("errors/404.html"), 404
    reasons = restriction_reasons.cached_reasons(party.branch.integration, party.person_type)
    if request.args.get("buscar"):  # "Buscar motivos restrição": always ask the bureau
        fetched = optional_step(lambda: restriction_reasons.reasons_for_party(services(), party_id, refresh=True).items,
                                None)
        if fetched is not None:
            reasons = fetched
            flash(f"{len(reasons)} motivo(s) de restrição recebidos do bureau.", "info")
    elif not reasons and party.branch.integration is not None and party.person_type:
        reasons = optional_step(lambda: restriction_reasons.reasons_for_party(services(), party_id).items, reasons)
    return render_template(
        "negativations/include.html",
        party=party,
        rows=evaluate_party(db_session(), party_id, Criteria(today_br())),
        reasons=reasons,
        chosen=request.values.get("restriction_code", ""),
        selected=set(request.form.getlist("title_ids")),
        today=today_br(),
        active_tab="negativations",
        errors=errors or {},
    )


@bp.route("/clientes/<int:party_id>/negativacoes/incluir", methods=["GET", "POST"])
@on_error(form=_include_page)
@requires(Capability.NEGATIVATE)
@credit_required
def include(party_id: int):
    if _client(party_id) is None:
        return render_template("errors/404.html"), 404
    if request.method == "POST":
        outcome = neg_inclusion.negativate_titles(
            services(), actor(), party_id, request.form.getlist("title_ids"), request.form.get("restriction_code", ""),
            confirm_after_manual_removal=request.form.get("confirm_after_manual_removal") == "1",
        )
        _flash_outcome(outcome)
        return redirect(url_for("negativations.detail", negativation_id=outcome.negativation_id))
    return _include_page(party_id)


def _remove_page(party_id: int, data=None, errors=None):
    party = _client(party_id)
    if party is None:
        return render_template("errors/404.html"), 404
    return render_template(
        "negativations/remove.html",
        party=party,
        rows=listing.removable_of_party(db_session(), party_id),
        reasons=MANUAL_REMOVAL_REASONS,
        active_tab="negativations",
        # After a refusal: the entries, reason and note as chosen and typed, the message by its field.
        selected=set(request.form.getlist("ids")),
        data=data or {},
        errors=errors or {},
    )


@bp.route("/clientes/<int:party_id>/negativacoes/remover", methods=["GET", "POST"])
@on_error(form=_remove_page)
@requires(Capability.NEGATIVATE)
@credit_required
def remove(party_id: int):
    if _client(party_id) is None:
        return render_template("errors/404.html"), 404
    if request.method == "POST":
        outcomes = manual_removal.remove_by_hand(
            services(),
            actor(),
            request.form.getlist("ids"),
            request.form.get("reason", ""),
            note=request.form.get("note", ""),
        )
        for outcome in outcomes:
            _flash_outcome(outcome)
        return redirect(url_for("negativations.party_negativations", party_id=party_id))
    return _remove_page(party_id)


def _date_arg(name: str):
    try:
        return title_service.parse_date(request.args.get(name, ""))
    except ValueError:  # an unreadable date filters nothing rather than failing the page
        return None


def _list_filter() -> neg_filters.NegativationFilter:
    status = request.args.get("status") or None
    origin = request.args.get("origin") or None
    return neg_filters.NegativationFilter(
        branch_id=id_arg("branch_id"),
        party_id=id_arg("party_id"),
        client=request.args.get("client") or None,
        status=status if status in NEGATIVATION_STATUS_LABELS else None,
        origin=origin if origin in neg_filters.ORIGIN_LABELS else None,
        created_from=_date_arg("from"),
        created_to=_date_arg("to"),
        deadline=request.args.get("deadline") or None,
        today=today_br(),
    )


@bp.route("/negativacoes/")
@requires(Capability.READ)
@credit_required
def index():
    flt = _list_filter()
    page = listing.list_negativations(
        db_session(),
        before_id=id_arg("before"),
        limit=50,
        flt=flt,
        table_only=True,
    )
    return render_template(
        "negativations/index.html",
        rows=page.items,
        next_before=page.next_before_id,
        policy_branch_id=listing.policy_branch_id(db_session(), page.items) if can(Capability.MANAGE_SETTINGS)
        else None,
        statuses=NEGATIVATION_STATUS_LABELS,
        origins=neg_filters.ORIGIN_LABELS,
        deadlines=neg_filters.DEADLINE_LABELS,
        can_remove=can(Capability.NEGATIVATE),
        removable=REMOVABLE_STATUSES,
        removal_reasons=MANUAL_REMOVAL_REASONS,
        branches=request_branches(),
        status=flt.status,
        args=request.args,
        today=today_br(),
    )


@bp.route("/negativacoes/exportar.csv")
@requires(Capability.READ)
@credit_required
def export():
    session = services().session_factory()  # the stream outlives the request's session teardown
    lines = neg_filters.export_csv(session, _list_filter(), role=current_user.role)

    def generate():
        try:
            yield from lines
        finally:
            session.close()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",  # Flask adds "; charset=utf-8" itself
        headers={"Content-Disposition": "attachment; filename=negativacoes.csv"},
    )


@bp.route("/negativacoes/<int:negativation_id>")
@requires(Capability.READ)
@credit_required
def detail(negativation_id: int):
    neg = db_session().get(Negativation, negativation_id)
    if neg is None:
        return render_template("errors/404.html"), 404
    return render_template(
        "negativations/detail.html", neg=neg, today=today_br(), can_write=can(Capability.NEGATIVATE),
        restriction_description=restriction_reasons.describe_code(
            db_session(), neg.integration_id, neg.document_type, neg.restriction_code),
    )


@bp.route("/negativacoes/<int:negativation_id>/atualizar-status", methods=["POST"])
@on_error(redirect="negativations.detail")
@requires(Capability.READ)
@credit_required
def refresh(negativation_id: int):
    _flash_outcome(neg_outbox.refresh_status(services(), actor(), negativation_id))
    return redirect(url_for("negativations.detail", negativation_id=negativation_id))


@bp.route("/negativacoes/<int:negativation_id>/reenviar", methods=["POST"])
@on_error(redirect="negativations.detail")
@requires(Capability.NEGATIVATE)
@credit_required
def resend(negativation_id: int):
    _flash_outcome(
        neg_inclusion.resend(
            services(), actor(), negativation_id, restriction_code=request.form.get("restriction_code") or None
        )
    )
    return redirect(url_for("negativations.detail", negativation_id=negativation_id))


def _policy_form(branch_id: int, data=None, errors=None):
    s = db_session()
    branch = s.get(Branch, branch_id)
    if branch is None:
        return render_template("errors/404.html"), 404
    if data is None:
        values = branch_policy.policy_for(s, branch_id)
        data = {
            "min_amount": decimal_br(values.min_amount),
            "prescription_years": values.prescription_years,
            "notice_days": values.notice_days,
        }
    branches = s.scalars(select(Branch).order_by(Branch.name)).all()
    return render_template(
        "negativations/policy.html", branch=branch, branches=branches, data=data, errors=errors or {}
    )


@bp.route("/negativacoes/politicas/<int:branch_id>", methods=["GET", "POST"])
@on_error(form=lambda data, errors, branch_id: _policy_form(branch_id, dict(data), errors))
@requires(Capability.MANAGE_SETTINGS)
def policy(branch_id: int):
    if db_session().get(Branch, branch_id) is None:
        return render_template("errors/404.html"), 404
    if request.method == "POST":
        branch_policy.save_policy(
            db_session(),
            actor(),
            branch_id,
            min_amount=request.form.get("min_amount", ""),
            prescription_years=request.form.get("prescription_years", ""),
            notice_days=request.form.get("notice_days", ""),
        )
        flash("Política de negativação salva.", "success")
        return redirect(url_for("negativations.policy", branch_id=branch_id))
    return _policy_form(branch_id)
