"""Crédito (admin): accounts list with CSV, reservations (settle, change, cancel), the per-branch
credit policy and the delivery log of updates to the commerce platform."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Branch
from app.models.commerce import UPDATE_STATUS_LABELS
from app.models.credit import PROTECTED_FIELD_LABELS, RESERVATION_STATUS_LABELS, RESTORE_MODE_LABELS
from app.models.parties import STATUS_LABELS
from app.safe_redirect import safe_next
from app.services.commerce import outbox as commerce_outbox
from app.services.core.clock import today_br
from app.services.core.errors import DomainError
from app.services.credit import account_list as credit_account_list
from app.services.credit import policy as credit_policies
from app.services.credit import purchases
from app.services.credit.policy import policy_for

from .common import actor, checkbox, db_session, flash_domain_error, page_args, roles_required, services

bp = Blueprint("credit_admin", __name__, url_prefix="/credito")

VIEW_ROLES = ("admin", "finance", "viewer")
MANAGER_ROLES = ("admin", "finance")


def _branches():
    return list(db_session().scalars(select(Branch).order_by(Branch.name)))


def _int(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _filters() -> dict:
    return {"q": request.args.get("q", ""), "branch_id": _int("branch_id"),
            "status": request.args.get("status") or None,
            "with_limit": request.args.get("with_limit") == "1",
            "sort": request.args.get("sort", "name") if request.args.get("sort") in credit_account_list.SORTS
            else "name", "descending": request.args.get("order") == "desc"}


@bp.route("/contas")
@roles_required(*VIEW_ROLES)
def accounts():
    page, size = page_args()
    rows = credit_account_list.search_accounts(db_session(), limit=size + 1, offset=(page - 1) * size, **_filters())
    return render_template("credit/accounts.html", rows=rows[:size], has_next=len(rows) > size, page=page,
                           branches=_branches(), status_labels=STATUS_LABELS, sorts=credit_account_list.SORTS,
                           args=request.args)


@bp.route("/contas/exportar.csv")
@roles_required(*VIEW_ROLES)
def export_accounts():
    rows = credit_account_list.export_csv_streamed(services().session_factory, **_filters())
    return Response(rows, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=contas-credito.csv"})


@bp.route("/contas/importar", methods=["GET", "POST"])
@roles_required(*MANAGER_ROLES)
def import_accounts():
    lines = None
    if request.method == "POST":
        upload = request.files.get("file")
        s = db_session()
        try:
            if upload is None or not upload.filename:
                raise DomainError("Escolha um arquivo CSV.")
            text = upload.read().decode("utf-8-sig", errors="replace")
            raw = request.form.get("branch_id", "")
            lines = credit_account_list.import_csv(s, actor(), text, branch_id=int(raw) if raw.isdigit() else None,
                                                   reason=request.form.get("reason", ""))
            s.commit()
            ok = sum(line.ok for line in lines)
            flash(f"{ok} de {len(lines)} linhas aplicadas.", "success" if ok == len(lines) else "warning")
        except DomainError as exc:
            s.rollback()
            flash_domain_error(exc)
    return render_template("credit/import.html", branches=_branches(), lines=lines)


@bp.route("/reservas")
@roles_required(*VIEW_ROLES)
def reservations():
    page, size = page_args()
    s = db_session()
    rows = purchases.list_reservations(s, status=request.args.get("status") or None, branch_id=_int("branch_id"),
                                       q=request.args.get("q", ""), limit=size + 1, offset=(page - 1) * size)
    terms = {b.id: policy_for(s, b.id).installment_terms for b in _branches()}
    return render_template("credit/reservations.html", rows=rows[:size], has_next=len(rows) > size, page=page,
                           branches=_branches(), status_labels=RESERVATION_STATUS_LABELS, terms=terms,
                           today=today_br().isoformat(), args=request.args)


def _reservation_action(action, message: str):
    s = db_session()
    try:
        s.rollback()  # start clean: the service takes the account lock first
        action(s)
        s.commit()
        flash(message, "success")
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
    return redirect(safe_next(request.form.get("next"), url_for("credit_admin.reservations")))


@bp.route("/reservas/<int:reservation_id>/faturar", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def settle(reservation_id: int):
    def action(s):
        raw = request.form.get("invoice_date", "")
        try:
            day = dt.date.fromisoformat(raw) if raw else None
        except ValueError as exc:
            raise DomainError("Data de faturamento inválida.") from exc
        titles = purchases.settle(s, actor(), reservation_id, installment_term=request.form.get("installment_term"),
                                  invoice_date=day)
        flash(f"{len(titles)} título(s) emitido(s).", "info")

    return _reservation_action(action, "Pedido faturado.")


@bp.route("/reservas/<int:reservation_id>/alterar", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def change(reservation_id: int):
    return _reservation_action(
        lambda s: purchases.change_amount(s, actor(), reservation_id, request.form.get("amount", "")),
        "Valor do pedido alterado.")


@bp.route("/reservas/<int:reservation_id>/cancelar", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def cancel(reservation_id: int):
    return _reservation_action(
        lambda s: purchases.cancel(s, actor(), reservation_id, request.form.get("reason", "")),
        "Pedido cancelado.")


@bp.route("/politicas")
@roles_required("admin")
def policies():
    s = db_session()
    return render_template("credit/policies.html", rows=[(b, policy_for(s, b.id)) for b in _branches()],
                           restore_labels=RESTORE_MODE_LABELS)


@bp.route("/politicas/<int:branch_id>", methods=["GET", "POST"])
@roles_required("admin")
def policy(branch_id: int):
    s = db_session()
    branch = s.get(Branch, branch_id)
    if branch is None:
        abort(404)
    current = policy_for(s, branch_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = credit_policies.PolicyInput(
            pen_can_buy_upfront=checkbox("pen_can_buy_upfront"), tolerance_enabled=checkbox("tolerance_enabled"),
            restore_mode=request.form.get("restore_mode", ""),
            installment_terms=[t.strip() for t in request.form.get("installment_terms", "").split(",")],
            reservation_expiry_hours=request.form.get("reservation_expiry_hours", ""),
            platform_url=request.form.get("platform_url", ""), platform_secret=request.form.get("platform_secret"),
            clear_platform_secret=checkbox("clear_platform_secret"),
            protected_fields=request.form.getlist("protected_fields"))
        try:
            credit_policies.save_policy(s, services().box, actor(), branch_id, data)
            s.commit()
            flash("Política de crédito salva.", "success")
            return redirect(url_for("credit_admin.policies"))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
        form = dict(request.form) | {"protected_fields": request.form.getlist("protected_fields")}
    else:
        form = {"pen_can_buy_upfront": current.pen_can_buy_upfront, "tolerance_enabled": current.tolerance_enabled,
                "restore_mode": current.restore_mode, "installment_terms": ", ".join(current.installment_terms or []),
                "reservation_expiry_hours": current.reservation_expiry_hours, "platform_url": current.platform_url,
                "protected_fields": list(current.protected_fields or [])}
    return render_template("credit/policy.html", branch=branch, form=form, errors=errors,
                           has_secret=bool(current.platform_secret_encrypted), restore_labels=RESTORE_MODE_LABELS,
                           protected_labels=PROTECTED_FIELD_LABELS)


@bp.route("/entregas")
@roles_required(*VIEW_ROLES)
def deliveries():
    page, size = page_args()
    s = db_session()
    rows = commerce_outbox.list_updates(s, status=request.args.get("status") or None, branch_id=_int("branch_id"),
                                        limit=size + 1, offset=(page - 1) * size)
    return render_template("credit/deliveries.html", rows=rows[:size], has_next=len(rows) > size, page=page,
                           log=commerce_outbox.recent_deliveries(s, limit=50), branches=_branches(),
                           status_labels=UPDATE_STATUS_LABELS, args=request.args)


@bp.route("/entregas/<int:update_id>/reenviar", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def retry_update(update_id: int):
    s = db_session()
    try:
        commerce_outbox.retry_update(s, actor(), update_id)
        s.commit()
        flash("Atualização recolocada na fila.", "success")
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
    return redirect(url_for("credit_admin.deliveries"))


@bp.route("/entregas/enviar-agora", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def deliver_now():
    summary = commerce_outbox.deliver_pending(services(), limit=50)
    flash(f"Envio executado: {summary}.", "info")
    return redirect(url_for("credit_admin.deliveries"))
