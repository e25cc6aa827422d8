"""Títulos: list with filters, sorting, keyset pagination and CSV export; create, edit, cancel,
renegotiate, dispute; payments; CSV imports of titles and payments with a line-by-line report."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select

from app.models import Branch, Party, Title
from app.models.negativations import REMOVAL_REASON_LABELS
from app.models.titles import TITLE_STATUS_LABELS
from app.services.core.clock import today_br
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.errors import DomainError, ValidationError
from app.services.core.money import brl
from app.services.core.permissions import FULL_DOCUMENT_ROLES
from app.services.negativations import removal as neg_removal
from app.services.titles import csv_export as title_export
from app.services.titles import csv_import as title_import
from app.services.titles import lifecycle as title_service
from app.services.titles import manual_removal
from app.services.titles import payments as payment_service

from .common import ALL_ROLES, actor, checkbox, db_session, flash_domain_error, roles_required, services

bp = Blueprint("titles", __name__, url_prefix="/titulos")
WRITERS = ("admin", "finance")
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


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() else None


def _filter() -> title_service.TitleFilter:
    status = request.args.get("status") or None
    aging = request.args.get("aging") or None
    return title_service.TitleFilter(
        branch_id=_int_arg("branch_id"),
        party_id=_int_arg("party_id"),
        status=status if status in TITLE_STATUS_LABELS else None,
        overdue=_yes_no("overdue"),
        aging=aging if aging in title_service.AGING_BUCKETS else None,
        negativated=_yes_no("negativated"),
        number=request.args.get("number") or None,
    )


def _branches():
    return db_session().scalars(select(Branch).order_by(Branch.name)).all()


@bp.route("/")
@roles_required(*ALL_ROLES)
def index():
    sort = request.args.get("sort", "due_date")
    desc = request.args.get("dir") == "desc"
    try:
        page = title_service.list_titles(
            db_session(),
            _filter(),
            today=today_br(),
            sort=sort,
            desc=desc,
            cursor=request.args.get("cursor") or None,
            limit=50,
        )
    except ValidationError as exc:
        flash_domain_error(exc)
        return redirect(url_for("titles.index"))
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
        can_write=current_user.has_role(*WRITERS),
    )


@bp.route("/exportar.csv")
@roles_required(*ALL_ROLES)
def export():
    session = services().session_factory()  # the stream outlives the request's session teardown
    lines = title_export.export_csv(
        session,
        _filter(),
        today=today_br(),
        sort=request.args.get("sort", "due_date"),
        desc=request.args.get("dir") == "desc",
        mask_documents=current_user.role not in FULL_DOCUMENT_ROLES,
    )

    def generate():
        try:
            yield from lines
        finally:
            session.close()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=titulos.csv"},
    )


def _party_from_form(form) -> int | None:
    if form.get("party_id", "").isdigit():
        return int(form["party_id"])
    raw_branch = form.get("branch_id", "")
    try:
        document = normalize_document(form.get("cliente_documento", "")).number
    except InvalidDocument:
        return None
    stmt = select(Party.id).where(Party.document == document, Party.stage == "client")
    if raw_branch.isdigit():
        stmt = stmt.where(Party.branch_id == int(raw_branch))
    return db_session().scalars(stmt).first()


def _input(form, origin: str = "manual") -> title_service.TitleInput:
    raw_branch = form.get("branch_id", "")
    return title_service.TitleInput(
        party_id=_party_from_form(form),
        branch_id=int(raw_branch) if raw_branch.isdigit() else None,
        number=form.get("number", ""),
        issue_date=form.get("issue_date", ""),
        due_date=form.get("due_date", ""),
        amount=form.get("amount", ""),
        description=form.get("description", ""),
        payment_link=form.get("payment_link", ""),
        court_blocked=checkbox("court_blocked"),
        origin=origin,
    )


@bp.route("/novo", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new():
    s = db_session()
    errors: dict[str, str] = {}
    data = dict(request.form) if request.method == "POST" else {}
    party = (
        s.get(Party, int(request.values["party_id"]))
        if request.values.get("party_id", "").isdigit()
        else None
    )
    if party is not None and request.method == "GET":
        data = {
            "party_id": party.id,
            "cliente_documento": party.document,
            "branch_id": party.branch_id,
            "issue_date": today_br().strftime("%d/%m/%Y"),
        }
    if request.method == "POST":
        try:
            title = title_service.create_title(s, actor(), _input(request.form))
            s.commit()
            flash(f"Título {title.number} criado.", "success")
            return redirect(url_for("titles.detail", title_id=title.id))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
            if "party_id" in errors:
                errors["cliente_documento"] = errors["party_id"]
    return render_template(
        "titles/form.html",
        title=None,
        party=party,
        data=data,
        errors=errors,
        branch_options=[(b.id, b.name) for b in _branches()],
    )


@bp.route("/<int:title_id>", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def detail(title_id: int):
    s = db_session()
    title = s.get(Title, title_id)
    if title is None:
        flash("Título não encontrado.", "warning")
        return redirect(url_for("titles.index"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not current_user.has_role(*WRITERS):
            return render_template("errors/403.html"), 403
        try:
            title_service.update_title(
                s, actor(), title_id, _input(request.form | {"party_id": str(title.party_id)})
            )
            s.commit()
            flash("Título salvo.", "success")
            return redirect(url_for("titles.detail", title_id=title_id))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
        data = dict(request.form)
    else:
        data = {
            "number": title.number,
            "branch_id": title.branch_id,
            "issue_date": title.issue_date.strftime("%d/%m/%Y"),
            "due_date": title.due_date.strftime("%d/%m/%Y"),
            "amount": f"{title.amount:.2f}".replace(".", ","),
            "description": title.description or "",
            "payment_link": title.payment_link or "",
            "court_blocked": title.court_blocked,
        }
    from app.services.negativations.records import live_negativation_of

    return render_template(
        "titles/detail.html",
        title=title,
        data=data,
        errors=errors,
        today=today_br(),
        live=live_negativation_of(s, title.id),
        can_write=current_user.has_role(*WRITERS),
        branch_options=[(b.id, b.name) for b in _branches()],
        hold_labels=REMOVAL_REASON_LABELS,
    )


def _send_removals(ids: list[int]) -> None:
    for outcome in neg_removal.send_removals(services(), ids):
        flash(outcome.message, "success" if outcome.ok else "warning")


@bp.route("/<int:title_id>/pagamentos", methods=["POST"])
@roles_required(*WRITERS)
def pay(title_id: int):
    s = db_session()
    try:
        result = payment_service.register_payment(
            s,
            actor(),
            title_id,
            request.form.get("amount", ""),
            request.form.get("paid_on", ""),
            method=request.form.get("method") or None,
            reference=request.form.get("reference") or None,
        )
        s.commit()
        flash(f"Pagamento registrado. Saldo em aberto: {brl(result.title.open_amount)}.", "success")
        _send_removals(result.removal_ids)  # rule 9: the removal leaves right after the commit
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
    return redirect(url_for("titles.detail", title_id=title_id))


@bp.route("/<int:title_id>/<action>", methods=["POST"])
@roles_required(*WRITERS)
def act(title_id: int, action: str):
    s = db_session()
    note = request.form.get("reason", "")
    try:
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
        s.commit()
        flash(message, "success")
        if removal_id:
            _send_removals([removal_id])
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
    return redirect(url_for("titles.detail", title_id=title_id))


@bp.route("/importar", methods=["GET", "POST"])
@roles_required(*WRITERS)
def import_csv():
    kind = request.values.get("kind", "titulos")
    report = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Escolha um arquivo CSV.", "warning")
        else:
            s = db_session()
            content = upload.read()
            try:
                if kind == "pagamentos":
                    report = title_import.import_payments(s, actor(), content)
                else:
                    report = title_import.import_titles(s, actor(), content)
                if report.ok:
                    s.commit()
                    flash(f"Importação concluída: {report.written} linha(s) gravada(s).", "success")
                    _send_removals(report.removal_ids)
                else:
                    s.rollback()
                    flash(
                        f"Nada foi gravado: {len(report.errors)} erro(s) no arquivo. "
                        "Corrija e envie de novo.",
                        "danger",
                    )
            except DomainError as exc:
                s.rollback()
                flash_domain_error(exc)
    return render_template(
        "titles/import.html",
        kind=kind,
        report=report,
        title_columns=title_import.TITLE_COLUMNS + title_import.TITLE_OPTIONAL,
        payment_columns=title_import.PAYMENT_COLUMNS + title_import.PAYMENT_OPTIONAL,
    )
