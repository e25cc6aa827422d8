"""Títulos: list with filters, sorting, keyset pagination and CSV export; create, edit, cancel,
renegotiate, dispute; payments; CSV imports of titles and payments with a line-by-line report."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from sqlalchemy.orm import joinedload

from app.models import Party, Title
from app.models.negativations import REMOVAL_REASON_LABELS
from app.models.titles import TITLE_STATUS_LABELS
from app.services.core.clock import today_br
from app.services.core.ids import as_id
from app.services.core.money import brl, decimal_br
from app.services.crm import parties as party_service
from app.services.negativations import listing as neg_listing
from app.services.negativations import removal as neg_removal
from app.services.titles import csv_export as title_export
from app.services.titles import csv_import as title_import
from app.services.titles import lifecycle as title_service
from app.services.titles import manual_removal
from app.services.titles import payments as payment_service

from .common import (
    Capability,
    actor,
    after_commit,
    can,
    checkbox,
    credit_enabled,
    db_session,
    form_id,
    id_arg,
    request_branches,
    requires,
    services,
)
from .errors import on_error

bp = Blueprint("titles", __name__, url_prefix="/titulos")
FORM_FIELDS = (
    "cliente_documento",
    "branch_id",
    "number",
    "issue_date",
    "due_date",
    "amount",
    "description",
    "payment_link",
)
SORT_LABELS = {
    "due_date": "Vencimento",
    "issue_date": "Emissão",
    "number": "Número",
    "amount": "Valor",
    "open_amount": "Em aberto",
}


def _yes_no(name: str) -> bool | None:
    return {"sim": True, "nao": False}.get(request.args.get(name, ""))


def _filter() -> title_service.TitleFilter:
    status = request.args.get("status") or None
    aging = request.args.get("aging") or None
    return title_service.TitleFilter(
        branch_id=id_arg("branch_id"),
        party_id=id_arg("party_id"),
        status=status if status in TITLE_STATUS_LABELS else None,
        overdue=_yes_no("overdue"),
        aging=aging if aging in title_service.AGING_BUCKETS else None,
        negativated=_yes_no("negativated"),
        number=request.args.get("number") or None,
        q=request.args.get("q") or None,
        due_from=_date_arg("due_from"),
        due_to=_date_arg("due_to"),
    )


def _date_arg(name: str):
    """A dd/mm/aaaa filter date; a date that cannot be read is ignored, not an error page."""
    try:
        return title_service.parse_date(request.args.get(name, ""))
    except ValueError:
        return None


def _branches():
    return request_branches()


@bp.route("/")
@on_error(redirect=lambda: url_for("titles.index"))  # a damaged cursor: back to the first page
@requires(Capability.READ)
def index():
    sort = request.args.get("sort", "due_date")
    desc = request.args.get("dir") == "desc"
    page = title_service.list_titles(
        db_session(),
        _filter(),
        today=today_br(),
        sort=sort,
        desc=desc,
        cursor=request.args.get("cursor") or None,
        limit=50,
        table_only=True,
    )
    return render_template(
        "titles/index.html",
        page=page,
        today=today_br(),
        branches=_branches(),
        statuses=TITLE_STATUS_LABELS,
        aging=title_service.AGING_BUCKETS,
        sorts=SORT_LABELS,
        sort=sort,
        desc=desc,
        args=request.args,
        can_write=can(Capability.MANAGE_TITLES),
        can_negativate=can(Capability.NEGATIVATE),
    )


@bp.route("/exportar.csv")
@requires(Capability.READ)
def export():
    session = services().session_factory()  # the stream outlives the request's session teardown
    lines = title_export.export_csv(
        session,
        _filter(),
        today=today_br(),
        sort=request.args.get("sort", "due_date"),
        desc=request.args.get("dir") == "desc",
        mask_documents=not can(Capability.SEE_FULL_DOCUMENT),
    )

    def generate():
        try:
            yield from lines
        finally:
            session.close()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",  # Flask adds "; charset=utf-8" itself
        headers={"Content-Disposition": "attachment; filename=titulos.csv"},
    )


def _input(form, origin: str = "manual") -> title_service.TitleInput:
    branch_id = form_id("branch_id")
    party_id = as_id(form.get("party_id"))
    if party_id is None:  # typed as the client's CPF/CNPJ
        party_id = party_service.client_id_by_document(db_session(), form.get("cliente_documento", ""),
                                                       branch_id=branch_id)
    return title_service.TitleInput(
        party_id=party_id,
        branch_id=branch_id,
        number=form.get("number", ""),
        issue_date=form.get("issue_date", ""),
        due_date=form.get("due_date", ""),
        amount=form.get("amount", ""),
        description=form.get("description", ""),
        payment_link=form.get("payment_link", ""),
        court_blocked=checkbox("court_blocked"),
        origin=origin,
    )


def _party_arg() -> Party | None:
    party_id = as_id(request.values.get("party_id"))
    return db_session().get(Party, party_id) if party_id is not None else None


def _new_form(data, errors: dict[str, str]):
    if "party_id" in errors:  # the client is typed as a document on this form
        errors["cliente_documento"] = errors["party_id"]
    return render_template(
        "titles/form.html",
        title=None,
        party=_party_arg(),
        data=data,
        errors=errors,
        branch_options=[(b.id, b.name) for b in _branches()],
    )


@bp.route("/novo", methods=["GET", "POST"])
@on_error(form=_new_form, posted=lambda: dict(request.form))
@requires(Capability.MANAGE_TITLES)
def new():
    if request.method == "POST":
        title = title_service.create_title(db_session(), actor(), _input(request.form))
        flash(f"Título {title.number} criado.", "success")
        return redirect(url_for("titles.detail", title_id=title.id))
    party = _party_arg()
    data = {}
    if party is not None:
        data = {
            "party_id": party.id,
            "cliente_documento": party.document,
            "branch_id": party.branch_id,
            "issue_date": today_br().strftime("%d/%m/%Y"),
        }
    return _new_form(data, {})


PAYMENT_FIELDS = ("amount", "paid_on", "method", "reference")


def _detail_page(title_id: int, data=None, errors: dict[str, str] | None = None, *, payment=None,
                 payment_errors: dict[str, str] | None = None, action: str | None = None, action_reason: str = "",
                 action_errors: dict[str, str] | None = None):
    s = db_session()
    # The page shows the client, the branch and the payments: loaded with the title, not one by one.
    title = s.get(Title, title_id, options=[joinedload(Title.party), joinedload(Title.branch),
                                            joinedload(Title.payments)])
    if title is None:
        flash("Título não encontrado.", "warning")
        return redirect(url_for("titles.index"))
    if data is None:
        data = {
            "number": title.number,
            "branch_id": title.branch_id,
            "issue_date": title.issue_date.strftime("%d/%m/%Y"),
            "due_date": title.due_date.strftime("%d/%m/%Y"),
            "amount": decimal_br(title.amount),
            "description": title.description or "",
            "payment_link": title.payment_link or "",
            "court_blocked": title.court_blocked,
        }
    # The history and the live entry in one read, without the row lock a payment takes.
    history, live = neg_listing.of_title_with_live(s, title.id)
    if payment is None:  # a first visit; after a refused payment, what the person typed stays
        payment = {"amount": decimal_br(title.open_amount), "paid_on": today_br().strftime("%d/%m/%Y")}
    return render_template(
        "titles/detail.html",
        title=title,
        data=data,
        errors=errors or {},
        today=today_br(),
        live=live,
        # After a payment the person sees, on the same page, the removal and its legal deadline (rule 9).
        negativations=history if credit_enabled() else [],
        can_write=can(Capability.MANAGE_TITLES),
        branch_options=[(b.id, b.name) for b in _branches()],
        hold_labels=REMOVAL_REASON_LABELS,
        payment=payment,
        payment_errors=payment_errors or {},
        failed_action=action,
        action_reason=action_reason,
        action_errors=action_errors or {},
    )


@bp.route("/<int:title_id>", methods=["GET", "POST"])
@on_error(form=lambda data, errors, title_id: _detail_page(title_id, dict(data), errors))
@requires(Capability.READ)
def detail(title_id: int):
    if request.method == "POST":
        if not can(Capability.MANAGE_TITLES):
            return render_template("errors/403.html"), 403
        title = db_session().get(Title, title_id)
        if title is None:
            return _detail_page(title_id)
        title_service.update_title(
            db_session(), actor(), title_id, _input(request.form | {"party_id": str(title.party_id)})
        )
        flash("Título salvo.", "success")
        return redirect(url_for("titles.detail", title_id=title_id))
    return _detail_page(title_id)


def _send_removals_after_commit(ids: list[int]) -> None:
    """Rule 9 (removal after full payment): the removal leaves right after the payment's commit."""
    if not ids:
        return

    def send() -> None:
        for outcome in neg_removal.send_removals(services(), ids):
            flash(outcome.message, "success" if outcome.ok else "warning")

    after_commit(send)


def _payment_form_again(data, errors, title_id: int):
    """A refused payment: the title's page with each message next to its field and every field as
    typed. Never the full balance and today again: a quick second click would record a full payment."""
    typed = {name: data.get(name, "") for name in PAYMENT_FIELDS}
    return _detail_page(title_id, payment=typed, payment_errors=errors)


@bp.route("/<int:title_id>/pagamentos", methods=["POST"])
@on_error(form=_payment_form_again, status=422)
@requires(Capability.MANAGE_TITLES)
def pay(title_id: int):
    result = payment_service.register_payment(
        db_session(),
        actor(),
        title_id,
        request.form.get("amount", ""),
        request.form.get("paid_on", ""),
        method=request.form.get("method") or None,
        reference=request.form.get("reference") or None,
        date_required=True,
    )
    flash(f"Pagamento registrado. Saldo em aberto: {brl(result.title.open_amount)}.", "success")
    _send_removals_after_commit(result.removal_ids)
    return redirect(url_for("titles.detail", title_id=title_id))


def _action_form_again(data, errors, title_id: int, action: str):
    """A refused action (a reason too short, a closed title): the title again, the reason as typed."""
    reason_error = errors.get("reason") or errors.get("dispute_reason")  # the form's one field is `reason`
    return _detail_page(title_id, action=action, action_reason=data.get("reason", ""),
                        action_errors={"reason": reason_error} if reason_error else {})


@bp.route("/<int:title_id>/<action>", methods=["POST"])
@on_error(form=_action_form_again, status=422)
@requires(Capability.MANAGE_TITLES)
def act(title_id: int, action: str):
    s = db_session()
    note = request.form.get("reason", "")
    removal_id = None
    if action == "cancelar":
        removal_id = title_service.cancel_title(s, actor(), title_id, note)
        message = "Título cancelado."
    elif action == "renegociar":
        removal_id = title_service.renegotiate_title(s, actor(), title_id, note)
        message = "Título marcado como renegociado."
    elif action == "disputa":
        disputed = request.form.get("disputed", "1") == "1"
        title_service.set_dispute(s, actor(), title_id, disputed, note)
        message = "Título marcado em disputa." if disputed else "Disputa encerrada."
    elif action == "liberar":  # a person clears the "não negativar" hold of a removal by hand
        manual_removal.clear_hold(s, actor(), title_id, note)
        message = "Título liberado para negativação."
    else:
        return render_template("errors/404.html"), 404
    flash(message, "success")
    _send_removals_after_commit([removal_id] if removal_id else [])
    return redirect(url_for("titles.detail", title_id=title_id))


def _import_page(kind: str, report=None):
    return render_template(
        "titles/import.html",
        kind=kind,
        report=report,
        title_columns=title_import.TITLE_COLUMNS + title_import.TITLE_OPTIONAL,
        payment_columns=title_import.PAYMENT_COLUMNS + title_import.PAYMENT_OPTIONAL,
    )


@bp.route("/importar", methods=["GET", "POST"])
@on_error(form=lambda data, errors: _import_page(request.values.get("kind", "titulos")))
@requires(Capability.MANAGE_TITLES)
def import_csv():
    kind = request.values.get("kind", "titulos")
    report = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Escolha um arquivo CSV.", "warning")
            return _import_page(kind)
        importer = title_import.import_payments if kind == "pagamentos" else title_import.import_titles
        # A file with any bad line writes nothing (the importers check every line first).
        report = importer(db_session(), actor(), upload.read())
        if report.ok:
            flash(f"Importação concluída: {report.written} linha(s) gravada(s).", "success")
            _send_removals_after_commit(report.removal_ids)
        else:
            flash(
                f"Nada foi gravado: {len(report.errors)} erro(s) no arquivo. Corrija e envie de novo.",
                "danger",
            )
    return _import_page(kind, report)
