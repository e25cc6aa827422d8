"""Crédito: the client tab "Limite de crédito" (limit, status, history, resend) and "Simular compra"."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Branch, Party, Title
from app.models.parties import STATUS_LABELS, CustomerStatus
from app.services.commerce import outbox as commerce_outbox
from app.services.core.clock import today_br
from app.services.credit import accounts as credit_accounts
from app.services.credit import purchases
from app.services.credit.policy import policy_for
from app.services.crm import parties as party_service

from .common import Capability, actor, can, db_session, discard_writes, end_snapshot, requires
from .errors import on_error
from .party_tabs import PartyTab, register_tab

bp = Blueprint("credit", __name__, url_prefix="/credito")

register_tab(PartyTab("credit", "Limite de crédito", "credit.client_tab", stages=("client",)))


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


def _tab(party_id: int, data=None, errors: dict | None = None):
    s = db_session()
    party = _party(party_id)
    account = credit_accounts.account_for(s, party.id)
    policy = policy_for(s, party.branch_id)
    return render_template(
        "credit/tab.html", **_party_context(party), account=account, policy=policy,
        summary=credit_accounts.summary_for(s, party, account=account, policy=policy),
        open_titles=credit_accounts.open_credit_titles(s, party.id),
        held_titles=credit_accounts.held_titles(s, party.id, policy.restore_mode),
        reservations=purchases.list_reservations(s, party_id=party.id, limit=20),
        limit_history=credit_accounts.limit_history(s, party.id),
        status_history=credit_accounts.status_history(s, party.id),
        updates=commerce_outbox.list_updates(s, party_id=party.id, limit=10),
        status_options=[(st.value, STATUS_LABELS[st]) for st in CustomerStatus],
        can_manage=can(Capability.MANAGE_CREDIT), errors=errors or {}, form=data or {}, today=today_br(),
    )


def _title_party_id(title_id: int) -> int:
    """The client whose tab shows this title: read from the title itself, never from the form (a
    posted `party_id=abc` was a server error, and another client's id showed the wrong tab)."""
    title = db_session().get(Title, title_id)
    if title is None:
        abort(404)
    return title.party_id


# A failed change shows the tab again with the message, the field errors and what was typed.
TAB_ON_ERROR = {"status": 422, "form": lambda data, errors, party_id: _tab(party_id, data, errors)}


@bp.route("/clientes/<int:party_id>")
@requires(Capability.READ)
def client_tab(party_id: int):
    return _tab(party_id)


def _start_with_the_account_lock() -> None:
    # The credit services lock the account first (on SQLite their first statement takes the write
    # lock): the request's earlier reads must not leave a snapshot open before it.
    end_snapshot()


@bp.route("/clientes/<int:party_id>/limite", methods=["POST"])
@on_error(**TAB_ON_ERROR)
@requires(Capability.MANAGE_CREDIT)
def set_limit(party_id: int):
    _party(party_id)
    _start_with_the_account_lock()
    credit_accounts.set_limit(db_session(), actor(), party_id, request.form.get("limit", ""),
                              request.form.get("reason", ""), tolerance_pct=request.form.get("tolerance_pct") or None)
    flash("Limite de crédito alterado.", "success")
    return redirect(url_for("credit.client_tab", party_id=party_id))


@bp.route("/clientes/<int:party_id>/status", methods=["POST"])
@on_error(**TAB_ON_ERROR)
@requires(Capability.MANAGE_CREDIT)
def set_status(party_id: int):
    _party(party_id)
    _start_with_the_account_lock()
    changed = credit_accounts.set_status(db_session(), actor(), party_id, request.form.get("status", ""),
                                         request.form.get("status_reason", ""))
    flash("Status alterado." if changed else "O cliente já está com este status.", "success" if changed else "info")
    return redirect(url_for("credit.client_tab", party_id=party_id))


@bp.route("/clientes/<int:party_id>/reenviar", methods=["POST"])
@on_error(**TAB_ON_ERROR)
@requires(Capability.MANAGE_CREDIT)
def resend(party_id: int):
    _party(party_id)
    _start_with_the_account_lock()
    credit_accounts.resend_limit(db_session(), actor(), party_id)
    flash("Limite colocado na fila de envio para a plataforma.", "success")
    return redirect(url_for("credit.client_tab", party_id=party_id))


@bp.route("/titulos/<int:title_id>/restaurar", methods=["POST"])
@on_error(status=422, form=lambda data, errors, title_id: _tab(_title_party_id(title_id), data, errors))
@requires(Capability.MANAGE_CREDIT)
def release_title(title_id: int):
    _start_with_the_account_lock()
    credit_accounts.release_title(db_session(), actor(), title_id, request.form.get("reason", ""))
    flash("Limite do título cancelado restaurado.", "success")
    return redirect(url_for("credit.client_tab", party_id=_title_party_id(title_id)))


def _active_branches() -> list[Branch]:
    return list(db_session().scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.name)))


def _simulate_page(data, errors: dict | None = None, result=None):
    s = db_session()
    branches = _active_branches()
    terms = sorted({t for b in branches for t in (policy_for(s, b.id).installment_terms or [])},
                   key=lambda t: [int(x) for x in t.split("/")])
    return render_template("credit/simulate.html", branch_options=[(b.id, b.name) for b in branches], form=data,
                           errors=errors or {}, result=result, methods=purchases.METHODS,
                           term_options=[(t, f"{t} dias") for t in terms], dry_run=request.form.get("dry_run"),
                           result_labels=purchases.RESULT_LABELS, dry_run_messages=purchases.DRY_RUN_MESSAGES,
                           customer_status_labels={k.value: v for k, v in STATUS_LABELS.items()},
                           branch_blank="Filial do cliente")


def _purchase_branch() -> str:
    """The branch chosen, or by default the client's own ("Filial do cliente"): a form that
    defaulted to the first branch answered "Cliente não cadastrado nesta filial" to a Matriz client."""
    chosen = request.form.get("branch_id", "")
    if chosen:
        return chosen
    party_id = party_service.client_id_by_document(db_session(), request.form.get("document", ""))
    party = db_session().get(Party, party_id) if party_id else None
    if party is not None:
        return str(party.branch_id)
    branches = _active_branches()  # no such client anywhere: any branch answers "não encontrado"
    return str(branches[0].id) if branches else ""


@bp.route("/simular", methods=["GET", "POST"])
@on_error(form=lambda data, errors: _simulate_page(dict(data), errors))
@requires(Capability.MANAGE_CREDIT)
def simulate():
    if request.method == "POST":
        _start_with_the_account_lock()
        result = purchases.authorise(
            db_session(), actor(), branch_id=_purchase_branch(),
            document=request.form.get("document", ""), amount=request.form.get("amount", ""),
            method=request.form.get("method", ""), order_ref=request.form.get("order_ref") or None,
            installment_term=request.form.get("installment_term") or None)
        if request.form.get("dry_run") in {"y", "on"}:
            discard_writes()  # "Só simular": the answer is shown, the reservation is not kept
        return _simulate_page(dict(request.form), result=result)
    data = {"branch_id": request.args.get("branch_id") or "",
            "document": request.args.get("document", ""), "method": "boleto_faturado"}
    return _simulate_page(data)
