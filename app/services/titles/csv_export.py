"""CSV export of a filtered title list, streamed: memory stays flat for a million rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.models import Branch, NegativationTitle, Party, Title
from app.models.titles import COLLECTIBLE_STATUSES, TITLE_STATUS_LABELS, TitleStatus
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.spreadsheet import csv_lines
from app.services.titles.lifecycle import SORTS, TitleFilter, filtered

EXPORT_HEADER = [
    "filial_cnpj",
    "cliente",
    "documento",
    "numero",
    "emissao",
    "vencimento",
    "valor",
    "recebido",
    "em_aberto",
    "status",
    "dias_atraso",
    "disputa",
    "negativado",
]


def export_csv(
    session: Session,
    flt: TitleFilter,
    *,
    today: dt.date,
    sort: str = "due_date",
    desc: bool = False,
    mask_documents: bool = True,
) -> Iterator[str]:
    """The filtered titles as a pt-BR spreadsheet (app/services/core/spreadsheet.py), streamed in
    chunks: memory stays flat for 1M rows."""
    col = SORTS.get(sort, Title.due_date)
    sub = filtered(flt, today, session).subquery()
    stmt = (
        select(
            Branch.cnpj,
            Party.name,
            Party.document,
            sub.c.number,
            sub.c.issue_date,
            sub.c.due_date,
            sub.c.amount,
            sub.c.amount_received,
            sub.c.open_amount,
            sub.c.status,
            sub.c.disputed,
            exists().where(NegativationTitle.title_id == sub.c.id, NegativationTitle.live),
        )
        .join(Branch, Branch.id == sub.c.branch_id)
        .join(Party, Party.id == sub.c.party_id)
        # The list's order, ties included (its keyset runs on (column, id), both the same way): the
        # file a person exports reads in the order the screen showed.
        .order_by(*((sub.c[col.key].desc(), sub.c.id.desc()) if desc else (sub.c[col.key], sub.c.id)))
    )
    def rows() -> Iterator[list[object]]:
        for (cnpj, name, document, number, issue, due, amount, received, open_amount, status, disputed,
             neg) in session.execute(stmt.execution_options(yield_per=1000)):
            overdue = status in COLLECTIBLE_STATUSES and open_amount > 0 and today > due
            yield [cnpj, name, _document(document, mask_documents), number, issue, due, amount, received,
                   open_amount, TITLE_STATUS_LABELS[TitleStatus(status)], (today - due).days if overdue else 0,
                   bool(disputed), bool(neg)]

    return csv_lines(EXPORT_HEADER, rows())


def _document(value: str | None, mask: bool) -> str:
    if not value:
        return ""
    try:
        doc = normalize_document(value)
    except InvalidDocument:
        return "***" if mask else value
    return doc.masked if mask else doc.formatted
