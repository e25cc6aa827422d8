"""Crédito: the client tab "Limite de crédito" (limit, status, history, resend) and "Simular compra"."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Branch, Party
from app.models.parties import STATUS_LABELS, CustomerStatus
from app.services.commerce import outbox as commerce_outbox
from app.services.core.clock import today_br
from app.services.core.errors import DomainError
from app.services.credit import accounts as credit_accounts
from app.services.credit import purchases
from app.services.credit.policy import policy_for

from .common import actor, db_session, flash_domain_error, roles_required
from .party_tabs import PartyTab, register_tab

bp = Blueprint("credit", __name__, url_prefix="/credito")

READ_ROLES = ("admin", "finance", "crm", "viewer")
MANAGER_ROLES = ("admin", "finance")

register_tab(PartyTab("credit", "Limite de crédito", "credit.client_tab", roles=READ_ROLES, stages=("client",)))


def _party(party_id: int) -> Party:
    party = db_session().get(Party, party_id)
    if party is None:
        abort(404)
    return party


def _party_context(party: Party) -> dict:
    """The party page header (buttons of the CRM area) plus this tab's key."""
    try:
        from .crm import party_page_context
    except ImportError:  # the CRM area is not installed in this app
        return {"party": party, "active_tab": "credit"}
    return {**party_page_context(party), "active_tab": "credit"}


@bp.route("/clientes/<int:party_id>")
@roles_required(*READ_ROLES)
def client_tab(party_id: int, errors: dict | None = None, form: dict | None = None):
    s = db_session()
    party = _party(party_id)
    account = credit_accounts.account_for(s, party.id)
    policy = policy_for(s, party.branch_id)
    titles = credit_accounts.credit_titles(s, party.id)
    released = credit_accounts.released_title_ids(s, party.id)
    return render_template(
        "credit/tab.html", **_party_context(party), account=account, policy=policy,
        summary=credit_accounts.summary_for(s, party, account=account, policy=policy),
        open_titles=[t for t in titles if t.status != "cancelled"],
        held_titles=[t for t in titles if t.status == "cancelled" and t.id not in released]
        if policy.restore_mode == "payment" else [],
        reservations=purchases.list_reservations(s, party_id=party.id, limit=20),
        limit_history=credit_accounts.limit_history(s, party.id),
        status_history=credit_accounts.status_history(s, party.id),
        updates=commerce_outbox.list_updates(s, party_id=party.id, limit=10),
        status_options=[(st.value, STATUS_LABELS[st]) for st in CustomerStatus],
        can_manage=_can_manage(), errors=errors or {}, form=form or {}, today=today_br(),
    )


def _can_manage() -> bool:
    from flask_login import current_user

    return current_user.has_role(*MANAGER_ROLES)


def _after_change(party_id: int, action) -> object:
    s = db_session()
    try:
        s.rollback()  # the service opens the transaction (on SQLite its first statement takes the write lock)
        action(s)
        s.commit()
    except DomainError as exc:
        s.rollback()
        errors = flash_domain_error(exc)
        return client_tab(party_id, errors=errors, form=request.form), 422
    return redirect(url_for("credit.client_tab", party_id=party_id))


@bp.route("/clientes/<int:party_id>/limite", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def set_limit(party_id: int):
    _party(party_id)

    def action(s):
        credit_accounts.set_limit(s, actor(), party_id, request.form.get("limit", ""), request.form.get("reason", ""),
                                  tolerance_pct=request.form.get("tolerance_pct") or None)
        flash("Limite de crédito alterado.", "success")

    return _after_change(party_id, action)


@bp.route("/clientes/<int:party_id>/status", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def set_status(party_id: int):
    _party(party_id)

    def action(s):
        changed = credit_accounts.set_status(s, actor(), party_id, request.form.get("status", ""),
                                             request.form.get("status_reason", ""))
        flash("Status alterado." if changed else "O cliente já está com este status.",
              "success" if changed else "info")

    return _after_change(party_id, action)


@bp.route("/clientes/<int:party_id>/reenviar", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def resend(party_id: int):
    _party(party_id)

    def action(s):
        credit_accounts.resend_limit(s, actor(), party_id)
        flash("Limite colocado na fila de envio para a plataforma.", "success")

    return _after_change(party_id, action)


@bp.route("/titulos/<int:title_id>/restaurar", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def release_title(title_id: int):
    party_id = int(request.form.get("party_id", "0") or 0)

    def action(s):
        credit_accounts.release_title(s, actor(), title_id, request.form.get("reason", ""))
        flash("Limite do título cancelado restaurado.", "success")

    return _after_change(party_id, action)


@bp.route("/simular", methods=["GET", "POST"])
@roles_required(*MANAGER_ROLES)
def simulate():
    s = db_session()
    branches = list(s.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.name)))
    result, errors = None, {}
    form = dict(request.form) if request.method == "POST" else {
        "branch_id": request.args.get("branch_id") or (branches[0].id if branches else ""),
        "document": request.args.get("document", ""), "method": "boleto_faturado"}
    if request.method == "POST":
        dry_run = request.form.get("dry_run") in {"y", "on"}
        try:
            s.rollback()  # authorise() must open the transaction itself (SQLite write lock first)
            result = purchases.authorise(
                s, actor(), branch_id=request.form.get("branch_id", ""), document=request.form.get("document", ""),
                amount=request.form.get("amount", ""), method=request.form.get("method", ""),
                order_ref=request.form.get("order_ref") or None,
                installment_term=request.form.get("installment_term") or None)
            if dry_run:
                s.rollback()
            else:
                s.commit()
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
    terms = sorted({t for b in branches for t in (policy_for(s, b.id).installment_terms or [])},
                   key=lambda t: [int(x) for x in t.split("/")])
    return render_template("credit/simulate.html", branch_options=[(b.id, b.name) for b in branches], form=form,
                           errors=errors, result=result, methods=purchases.METHODS,
                           term_options=[(t, f"{t} dias") for t in terms], dry_run=request.form.get("dry_run"))
