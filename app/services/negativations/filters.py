"""The Negativações list's filters and its CSV export (exactly the filtered rows).

Filters: branch, client (one client by id, or a name/CPF/CNPJ typed as in the CRM lists), status,
period (the day the negativation was created, in Brasília) and origin (by hand or the routine).
The list pages by id, newest first (`listing.list_negativations`); the export streams the same
selection through app/services/core/spreadsheet.py, with documents as the privacy rule allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.models import Branch, Negativation, Party
from app.models.negativations import NEGATIVATION_STATUS_LABELS, REMOVAL_REASON_LABELS
from app.services.core.business_days import next_business_day
from app.services.core.clock import start_of_day_br
from app.services.core.privacy import document_for
from app.services.core.spreadsheet import csv_lines
from app.services.crm.search import name_matches, search_kind

ORIGIN_LABELS = {"manual": "Manual", "routine": "Rotina"}
DEADLINE_LABELS = {"late": "Prazo legal de baixa vencido", "near": "Prazo legal de baixa até o próximo dia útil"}
_STATUS = {status.value: label for status, label in NEGATIVATION_STATUS_LABELS.items()}
_REASON = {reason.value: label for reason, label in REMOVAL_REASON_LABELS.items()}


@dataclass(frozen=True)
class NegativationFilter:
    branch_id: int | None = None
    party_id: int | None = None
    client: str | None = None  # name words or CPF/CNPJ prefix
    status: str | None = None
    origin: str | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    # Rule 9 (removal after payment): "late" = legal deadline passed, "near" = today or the next
    # business day; both only while the bureau has not confirmed the removal.
    deadline: str | None = None
    today: dt.date | None = None

    @property
    def is_empty(self) -> bool:
        return self == NegativationFilter()


def _like_prefix(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def apply(stmt: Select, flt: NegativationFilter) -> Select:
    if flt.branch_id:
        stmt = stmt.where(Negativation.branch_id == flt.branch_id)
    if flt.party_id:
        stmt = stmt.where(Negativation.party_id == flt.party_id)
    if flt.status:
        stmt = stmt.where(Negativation.status == flt.status)
    if flt.origin:
        stmt = stmt.where(Negativation.origin == flt.origin)
    if flt.created_from:
        stmt = stmt.where(Negativation.created_at >= start_of_day_br(flt.created_from))
    if flt.created_to:  # the whole last day counts
        stmt = stmt.where(Negativation.created_at < start_of_day_br(flt.created_to + dt.timedelta(days=1)))
    if flt.deadline in DEADLINE_LABELS and flt.today is not None:
        stmt = stmt.where(Negativation.removal_deadline.is_not(None), Negativation.removed_at.is_(None),
                          Negativation.status != "error")
        if flt.deadline == "late":
            stmt = stmt.where(Negativation.removal_deadline < flt.today)
        else:
            stmt = stmt.where(Negativation.removal_deadline >= flt.today,
                              Negativation.removal_deadline <= next_business_day(flt.today))
    if flt.client and flt.client.strip():
        kind, term = search_kind(flt.client)
        if kind == "document":
            # The negativation keeps the document it was sent with: no join needed.
            stmt = stmt.where(Negativation.document.like(_like_prefix(term), escape="\\"))
        else:
            stmt = stmt.where(Negativation.party_id.in_(select(Party.id).where(name_matches(term))))
    return stmt


EXPORT_HEADER = [
    "numero", "filial", "cliente", "documento", "status", "origem", "codigo_restricao", "protocolo",
    "valor_enviado", "valor_recebido", "solicitado_por", "criada_em", "enviada_em", "motivo_baixa",
    "baixada_em", "prazo_legal_baixa",
]


def export_csv(session: Session, flt: NegativationFilter, *, role: str | None) -> Iterator[str]:
    """The filtered negativations, newest first, streamed (memory stays flat)."""
    stmt = apply(
        select(Negativation.id, Branch.name, Party.name, Negativation.document, Negativation.status,
               Negativation.origin, Negativation.restriction_code, Negativation.protocol,
               Negativation.total_amount, Negativation.amount_received, Negativation.requested_by,
               Negativation.created_at, Negativation.sent_at, Negativation.removal_reason,
               Negativation.removed_at, Negativation.removal_deadline)
        .join(Branch, Branch.id == Negativation.branch_id)
        .join(Party, Party.id == Negativation.party_id),
        flt,
    ).order_by(Negativation.id.desc())

    def rows() -> Iterator[list[object]]:
        for (nid, branch, client, document, status, origin, code, protocol, total, received, by, created,
             sent, reason, removed, deadline) in session.execute(stmt.execution_options(yield_per=1000)):
            yield [nid, branch, client, document_for(role, document), _STATUS.get(status, status),
                   ORIGIN_LABELS.get(origin, origin), code, protocol, total, received, by, created, sent,
                   _REASON.get(reason, reason) if reason else None, removed, deadline]

    return csv_lines(EXPORT_HEADER, rows())
