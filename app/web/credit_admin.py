"""Crédito (admin): accounts list with CSV, reservations (settle, change, cancel), the per-branch
credit policy and the delivery log of updates to the commerce platform."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.models import Branch
from app.models.commerce import UPDATE_STATUS_LABELS
from app.models.credit import PROTECTED_FIELD_LABELS, RESERVATION_STATUS_LABELS, RESTORE_MODE_LABELS
from app.models.parties import STATUS_LABELS
from app.safe_redirect import safe_next
from app.services.commerce import outbox as commerce_outbox
from app.services.core.clock import today_br
from app.services.core.errors import ValidationError
from app.services.core.ids import as_id
from app.services.core.privacy import sees_full_document
from app.services.credit import account_list as credit_account_list
from app.services.credit import policy as credit_policies
from app.services.credit import purchases
from app.services.credit.policy import policy_for
from app.services.titles.lifecycle import parse_date

from .common import (
    Capability,
    actor,
    checkbox,
    db_session,
    end_snapshot,
    form_id,
    id_arg,
    page_args,
    request_branches,
    requires,
    services,
)
from .errors import on_error

bp = Blueprint("credit_admin", __name__, url_prefix="/credito")


def _branches():
    return request_branches()


def _int(name: str) -> int | None:
    return id_arg(name)


def _filters() -> dict:
    return {"q": request.args.get("q", ""), "branch_id": _int("branch_id"),
            "status": request.args.get("status") or None,
            "with_limit": request.args.get("with_limit") == "1",
            "sort": request.args.get("sort", "name") if request.args.get("sort") in credit_account_list.SORTS
            else "name", "descending": request.args.get("order") == "desc"}


@bp.route("/contas")
@requires(Capability.VIEW_CREDIT)
def accounts():
    page, size = page_args()
    rows = credit_account_list.search_accounts(db_session(), limit=size + 1, offset=(page - 1) * size, **_filters())
    return render_template("credit/accounts.html", rows=rows[:size], has_next=len(rows) > size, page=page,
                           branches=_branches(), status_labels=STATUS_LABELS, sorts=credit_account_list.SORTS,
                           args=request.args)


@bp.route("/contas/exportar.csv")
@requires(Capability.VIEW_CREDIT)
def export_accounts():
    rows = credit_account_list.export_csv_streamed(
        services().session_factory, mask_documents=not sees_full_document(current_user.role), **_filters())
    return Response(rows, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=contas-credito.csv"})


def _import_page(lines=None):
    return render_template("credit/import.html", branches=_branches(), lines=lines)


@bp.route("/contas/importar", methods=["GET", "POST"])
@on_error(form=lambda data, errors: _import_page())
@requires(Capability.MANAGE_CREDIT)
def import_accounts():
    if request.method == "GET":
        return _import_page()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("Escolha um arquivo CSV.", field_errors={"file": "obrigatório"})
    text = upload.read().decode("utf-8-sig", errors="replace")
    lines = credit_account_list.import_csv(db_session(), actor(), text,
                                           branch_id=form_id("branch_id"),
                                           reason=request.form.get("reason", ""))
    ok = sum(line.ok for line in lines)
    flash(f"{ok} de {len(lines)} linhas aplicadas.", "success" if ok == len(lines) else "warning")
    return _import_page(lines)


def _reservations_page(args, back: str, *, failed: int | None = None, typed=None, errors=None):
    """The list filtered by `args`; after a refused action on row `failed`, that row's fields as typed
    with the message next to the field (a date reset to today would invoice on the wrong day)."""
    page, size = page_args(args=args)
    s = db_session()
    rows = purchases.list_reservations(s, status=args.get("status") or None, branch_id=as_id(args.get("branch_id")),
                                       q=args.get("q", ""), limit=size + 1, offset=(page - 1) * size)
    terms = {b.id: policy_for(s, b.id).installment_terms for b in _branches()}
    return render_template("credit/reservations.html", rows=rows[:size], has_next=len(rows) > size, page=page,
                           branches=_branches(), status_labels=RESERVATION_STATUS_LABELS, terms=terms,
                           today=today_br(), args=args, back=back, failed=failed, typed=typed or {},
                           errors=errors or {})


@bp.route("/reservas")
@requires(Capability.VIEW_CREDIT)
def reservations():
    return _reservations_page(request.args, request.full_path)


def _back_to_list(**_view_args) -> str:
    """The reservations list the action was posted from (its filters in `next`)."""
    return safe_next(request.form.get("next"), url_for("credit_admin.reservations"))


def _reservation_form_again(data, errors, reservation_id: int):
    back = _back_to_list()
    args = MultiDict(parse_qsl(urlsplit(back).query, keep_blank_values=True))
    return _reservations_page(args, back, failed=reservation_id, typed=dict(data), errors=errors)


def _reservation_done(message: str):
    flash(message, "success")
    return redirect(_back_to_list())


@bp.route("/reservas/<int:reservation_id>/faturar", methods=["POST"])
@on_error(form=_reservation_form_again, status=422)
@requires(Capability.MANAGE_CREDIT)
def settle(reservation_id: int):
    raw = request.form.get("invoice_date", "")
    try:
        day = parse_date(raw) if raw else None  # dd/mm/aaaa, as every date field
    except ValueError as exc:
        raise ValidationError("Data de faturamento inválida.",
                              field_errors={"invoice_date": "Use dd/mm/aaaa."}) from exc
    end_snapshot()  # the service takes the account lock first
    titles = purchases.settle(db_session(), actor(), reservation_id,
                              installment_term=request.form.get("installment_term"), invoice_date=day)
    flash(f"{len(titles)} título(s) emitido(s).", "info")
    return _reservation_done("Pedido faturado.")


@bp.route("/reservas/<int:reservation_id>/alterar", methods=["POST"])
@on_error(form=_reservation_form_again, status=422)
@requires(Capability.MANAGE_CREDIT)
def change(reservation_id: int):
    end_snapshot()  # the service takes the account lock first
    purchases.change_amount(db_session(), actor(), reservation_id, request.form.get("amount", ""))
    return _reservation_done("Valor do pedido alterado.")


@bp.route("/reservas/<int:reservation_id>/cancelar", methods=["POST"])
@on_error(form=_reservation_form_again, status=422)
@requires(Capability.MANAGE_CREDIT)
def cancel(reservation_id: int):
    end_snapshot()  # the service takes the account lock first
    purchases.cancel(db_session(), actor(), reservation_id, request.form.get("reason", ""))
    return _reservation_done("Pedido cancelado.")


@bp.route("/politicas")
@requires(Capability.MANAGE_SETTINGS)
def policies():
    s = db_session()
    return render_template("credit/policies.html", rows=[(b, policy_for(s, b.id)) for b in _branches()],
                           restore_labels=RESTORE_MODE_LABELS)


def _policy_form(branch_id: int, data=None, errors=None):
    branch = db_session().get(Branch, branch_id)
    if branch is None:
        abort(404)
    current = policy_for(db_session(), branch_id)
    if data is None:
        data = {"pen_can_buy_upfront": current.pen_can_buy_upfront, "tolerance_enabled": current.tolerance_enabled,
                "restore_mode": current.restore_mode, "installment_terms": ", ".join(current.installment_terms or []),
                "reservation_business_days": current.reservation_business_days, "platform_url": current.platform_url,
                "protected_fields": list(current.protected_fields or [])}
    return render_template("credit/policy.html", branch=branch, form=data, errors=errors or {},
                           has_secret=bool(current.platform_secret_encrypted), restore_labels=RESTORE_MODE_LABELS,
                           protected_labels=PROTECTED_FIELD_LABELS)


@bp.route("/politicas/<int:branch_id>", methods=["GET", "POST"])
@on_error(form=lambda data, errors, branch_id: _policy_form(branch_id, data, errors),
          posted=lambda: dict(request.form) | {"protected_fields": request.form.getlist("protected_fields")})
@requires(Capability.MANAGE_SETTINGS)
def policy(branch_id: int):
    if db_session().get(Branch, branch_id) is None:
        abort(404)
    if request.method == "POST":
        data = credit_policies.CreditPolicyInput(
            pen_can_buy_upfront=checkbox("pen_can_buy_upfront"), tolerance_enabled=checkbox("tolerance_enabled"),
            restore_mode=request.form.get("restore_mode", ""),
            installment_terms=[t.strip() for t in request.form.get("installment_terms", "").split(",")],
            reservation_business_days=request.form.get("reservation_business_days", ""),
            platform_url=request.form.get("platform_url", ""), platform_secret=request.form.get("platform_secret"),
            clear_platform_secret=checkbox("clear_platform_secret"),
            protected_fields=request.form.getlist("protected_fields"))
        credit_policies.save_policy(db_session(), services().box, actor(), branch_id, data)
        flash("Política de crédito salva.", "success")
        return redirect(url_for("credit_admin.policies"))
    return _policy_form(branch_id)


@bp.route("/entregas")
@requires(Capability.VIEW_CREDIT)
def deliveries():
    page, size = page_args()
    s = db_session()
    rows = commerce_outbox.list_updates(s, status=request.args.get("status") or None, branch_id=_int("branch_id"),
                                        limit=size + 1, offset=(page - 1) * size)
    return render_template("credit/deliveries.html", rows=rows[:size], has_next=len(rows) > size, page=page,
                           log=commerce_outbox.recent_deliveries(s, limit=50), branches=_branches(),
                           status_labels=UPDATE_STATUS_LABELS, args=request.args,
                           customer_status_labels={k.value: v for k, v in STATUS_LABELS.items()})


@bp.route("/entregas/<int:update_id>/reenviar", methods=["POST"])
@on_error(redirect="credit_admin.deliveries")
@requires(Capability.MANAGE_CREDIT)
def retry_update(update_id: int):
    commerce_outbox.retry_update(db_session(), actor(), update_id)
    flash("Atualização recolocada na fila.", "success")
    return redirect(url_for("credit_admin.deliveries"))


@bp.route("/entregas/enviar-agora", methods=["POST"])
@requires(Capability.MANAGE_CREDIT)
def deliver_now():
    summary = commerce_outbox.deliver_pending(services(), limit=50)
    flash(f"Envio executado: {summary}.", "info")
    return redirect(url_for("credit_admin.deliveries"))
