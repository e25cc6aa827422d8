"""Auditoria: every consultation, negativation, removal and settings change (admin only)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select

from app.models import User
from app.services.core import audit
from app.services.core.clock import to_br
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.spreadsheet import text_cell
from app.services.titles.lifecycle import parse_date

from .audit_labels import action_label, entity_label
from .common import Capability, db_session, id_arg, page_args, requires, services

bp = Blueprint("audit", __name__, url_prefix="/auditoria")

# Consultation events (domain rule 13) carry the purpose and the outcome in their details.
OUTCOME_LABELS = {"success": "concluída", "reused": "reaproveitada (sem cobrança)", "failed": "falhou",
                  "quota_exceeded": "recusada: cota mensal atingida"}


def purpose_and_outcome(event) -> tuple[str, str]:
    from app.models.consultations import PURPOSES

    details = event.details or {}
    purpose = details.get("purpose")
    return (PURPOSES.get(purpose, purpose or ""),
            OUTCOME_LABELS.get(details.get("outcome"), details.get("outcome") or ""))


def _date(name: str) -> dt.date | None:
    try:
        return parse_date(request.args.get(name, ""))  # dd/mm/aaaa, as every date field
    except ValueError:
        return None


def _filter() -> tuple[audit.AuditFilter, str | None]:
    doc_raw = (request.args.get("document") or "").strip()
    doc, warning = None, None
    if doc_raw:
        try:
            doc = normalize_document(doc_raw).number
        except InvalidDocument as exc:
            warning = exc.message
    return audit.AuditFilter(
        user_id=id_arg("user_id"), document=doc,
        action_prefix=(request.args.get("action") or None), date_from=_date("from"), date_to=_date("to"),
    ), warning


@bp.route("/")
@requires(Capability.VIEW_AUDIT)
def index():
    s = db_session()
    flt, warning = _filter()
    page, size = page_args()
    rows = list(audit.search(s, flt, limit=size + 1, offset=(page - 1) * size))
    users = s.scalars(select(User).order_by(User.username)).all()
    return render_template("audit/index.html", events=rows[:size], has_next=len(rows) > size, page=page,
                           purpose_and_outcome=purpose_and_outcome, action_label=action_label,
                           entity_label=entity_label,
                           users=users, warning=warning, args=request.args)


@bp.route("/exportar.csv")
@requires(Capability.VIEW_AUDIT)
def export():
    flt, _ = _filter()
    # Its own session, closed when the stream ends: the stream outlives the request's session
    # teardown, and a session reopened after it kept a connection idle in a transaction.
    s = services().session_factory()

    def generate():
        try:
            yield from _rows()
        finally:
            s.close()

    def _rows():
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";")
        writer.writerow(["data_hora", "usuario", "acao", "entidade", "id", "filial", "documento", "resumo",
                         "finalidade", "resultado"])
        yield "\ufeff" + buf.getvalue()  # BOM: Excel in pt-BR opens UTF-8 correctly
        for e in audit.search(s, flt, limit=None):
            buf.seek(0)
            buf.truncate()
            writer.writerow([text_cell(v) for v in (
                to_br(e.at).isoformat(timespec="seconds"), e.actor, e.action, e.entity_type, e.entity_id,
                e.branch_id, e.document, e.summary, *purpose_and_outcome(e))])
            yield buf.getvalue()

    return Response(generate(), mimetype="text/csv",  # Flask adds "; charset=utf-8" itself
                    headers={"Content-Disposition": "attachment; filename=auditoria.csv"})
