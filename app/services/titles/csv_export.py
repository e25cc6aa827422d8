"""CSV export of a filtered title list, streamed: memory stays flat for a million rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.models import Branch, NegativationTitle, Party, Title
from app.models.titles import COLLECTIBLE_STATUSES, TitleStatus
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.money import decimal_br
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
    """CSV lines (';'-separated, decimal comma), streamed in chunks: memory stays flat for 1M rows."""
    col = SORTS.get(sort, Title.due_date)
    sub = filtered(flt, today).subquery()
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
            exists().where(NegativationTitle.title_id == sub.c.id, NegativationTitle.live.is_(True)),
        )
        .join(Branch, Branch.id == sub.c.branch_id)
        .join(Party, Party.id == sub.c.party_id)
        .order_by(sub.c[col.key].desc() if desc else sub.c[col.key], sub.c.id)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    yield buffer.getvalue()
    for row in session.execute(stmt.execution_options(yield_per=1000)):
        buffer.seek(0)
        buffer.truncate()
        (cnpj, name, document, number, issue, due, amount, received, open_amount, status, disputed, neg) = row
        overdue = status in COLLECTIBLE_STATUSES and open_amount > 0 and today > due
        writer.writerow(
            [
                cnpj,
                name,
                _document(document, mask_documents),
                number,
                issue.strftime("%d/%m/%Y"),
                due.strftime("%d/%m/%Y"),
                decimal_br(amount),
                decimal_br(received),
                decimal_br(open_amount),
                TitleStatus(status).value,
                (today - due).days if overdue else 0,
                "sim" if disputed else "nao",
                "sim" if neg else "nao",
            ]
        )
        yield buffer.getvalue()


def _document(value: str | None, mask: bool) -> str:
    if not value:
        return ""
    try:
        doc = normalize_document(value)
    except InvalidDocument:
        return "***" if mask else value
    return doc.masked if mask else doc.formatted
