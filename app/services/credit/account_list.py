"""The admin list of credit accounts (search, filter, sort) and its CSV import/export, as a
credit-account product offers them (docs/domain-rules.md, "Credit accounts")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, literal, or_, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from app.models import Branch, CreditAccount, CreditPolicy, Party
from app.models.parties import Stage
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.errors import DomainError, NotFound, ValidationError
from app.services.core.spreadsheet import csv_lines
from app.services.credit import accounts as credit_accounts
from app.services.crm.search import name_matches

SORTS = {"name": "Nome", "limit": "Limite", "used": "Utilizado", "available": "Disponível", "status": "Status"}
CSV_HEADER = ["documento", "nome", "filial_cnpj", "status", "limite", "tolerancia_pct", "utilizado", "disponivel"]
MAX_CSV_ROWS = 50_000


@dataclass(frozen=True)
class AccountRow:
    party_id: int
    name: str
    document: str | None
    status: str
    branch_name: str
    branch_cnpj: str
    limit: Decimal
    tolerance_pct: Decimal
    used: Decimal

    @property
    def available(self) -> Decimal:
        return max(self.limit - self.used, Decimal("0.00"))


def _query(*, q: str = "", branch_id: int | None = None, status: str | None = None, with_limit: bool = False,
           sort: str = "name", descending: bool = False):
    now = now_utc()
    limit_col = credit_accounts.money_expr(CreditAccount.credit_limit)
    held = credit_accounts.titles_held_sq(Party.id, CreditPolicy.restore_mode)
    used = credit_accounts.money_expr(credit_accounts.titles_open_sq(Party.id) + held
                                  + credit_accounts.reserved_sq(Party.id, now)).label("used")
    limit_value = credit_accounts.money_expr(case((CreditAccount.id.is_(None), literal(0)), else_=limit_col)
                                         ).label("limit")
    stmt = (select(Party.id, Party.name, Party.document, Party.status, Branch.name.label("branch_name"),
                   Branch.cnpj.label("branch_cnpj"), limit_value, CreditAccount.tolerance_pct, used)
            .join(Branch, Branch.id == Party.branch_id)
            .outerjoin(CreditAccount, CreditAccount.party_id == Party.id)
            .outerjoin(CreditPolicy, CreditPolicy.branch_id == Party.branch_id)
            .where(Party.stage == Stage.CLIENT.value))
    text = (q or "").strip()
    if text:
        digits = "".join(c for c in text if c.isalnum()).upper()
        clauses = [name_matches(text), Party.external_id == text]
        if digits and any(c.isdigit() for c in digits):
            clauses.append(Party.document.startswith(digits))
        stmt = stmt.where(or_(*clauses))
    if branch_id:
        stmt = stmt.where(Party.branch_id == branch_id)
    if status:
        stmt = stmt.where(Party.status == status)
    if with_limit:
        stmt = stmt.where(CreditAccount.credit_limit > 0)
    order = {"name": Party.name, "limit": limit_value, "used": used, "available": limit_value - used,
             "status": Party.status}.get(sort, Party.name)
    return stmt.order_by(order.desc() if descending else order.asc(), Party.id)


def _row(r) -> AccountRow:
    return AccountRow(r.id, r.name, r.document, r.status, r.branch_name, r.branch_cnpj,
                      Decimal(r.limit).quantize(Decimal("0.01")),
                      r.tolerance_pct if r.tolerance_pct is not None else Decimal("0.00"),
                      Decimal(r.used).quantize(Decimal("0.01")))


# Sorts the database reads from columns, without the credit used.
_COLUMN_SORTS = frozenset({"name", "limit", "status"})


def search_accounts(session: Session, *, limit: int = 50, offset: int = 0, **filters) -> list[AccountRow]:
    stmt = _query(**filters)
    if filters.get("sort", "name") in _COLUMN_SORTS:
        # The page's parties first, then the credit used of those alone. With OFFSET over the whole
        # statement, PostgreSQL computed the used credit (three subqueries) of every skipped row too:
        # page 1,000 of 100,000 clients took 0.9 s against 10 ms for the first (docs/benchmarks.md).
        page = stmt.with_only_columns(Party.id).offset(offset).limit(limit).subquery()
        return [_row(r) for r in session.execute(stmt.join(page, page.c.id == Party.id))]
    if session.get_bind().dialect.name == "postgresql":
        # Sorting by the credit used computes it for every client (three index probes each). Its
        # estimated cost sets off PostgreSQL's JIT, whose compilation was 0.48 of this statement's
        # 1.2 s at 100,000 clients; without it the statement takes 0.6 s. LOCAL: this transaction.
        session.execute(sql_text("SET LOCAL jit = off"))
    return [_row(r) for r in session.execute(stmt.offset(offset).limit(limit))]


def export_csv_streamed(session_factory, **filters) -> Iterator[str]:
    """`export_csv` with a session of its own, closed when the stream ends or is abandoned: an HTTP
    response body is read after the request's session was already closed."""
    with session_factory() as session:
        yield from export_csv(session, **filters)


def export_csv(session: Session, *, mask_documents: bool = True, **filters) -> Iterator[str]:
    """The accounts as a pt-BR spreadsheet (app/services/core/spreadsheet.py), streamed row by row;
    documents masked unless the reader may see them whole (LGPD minimisation)."""
    def rows() -> Iterator[list[object]]:
        for r in session.execute(_query(**filters).execution_options(yield_per=1000)):
            row = _row(r)
            document = row.document or ""
            if mask_documents and document:
                try:
                    document = normalize_document(document).masked
                except InvalidDocument:
                    document = "***"
            yield [document, row.name, row.branch_cnpj, row.status, row.limit, row.tolerance_pct, row.used,
                   row.available]

    return csv_lines(CSV_HEADER, rows())


@dataclass(frozen=True)
class CsvLine:
    line: int
    document: str
    ok: bool
    message: str


def import_csv(session: Session, actor: audit.Actor, text: str, *, branch_id: int | None = None,
               reason: str = "") -> list[CsvLine]:
    """Set limits (and optionally tolerance and status) from a CSV like the export.

    Columns: documento (required), limite (required), tolerancia_pct, status, filial_cnpj (when
    absent, `branch_id` is used), motivo. Each line is applied on its own; a bad line is reported
    and never stops the others.
    """
    credit_accounts.require_credit_manager(actor)
    text = text.lstrip("\ufeff")
    sample = text[:2048]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    # newline="": the csv module reads \r, \n and \r\n line ends itself (a file saved on any system).
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        fields = {(f or "").strip().lower() for f in reader.fieldnames or []}
    except csv.Error as exc:
        raise ValidationError(f"O CSV não pôde ser lido ({exc}).", code="invalid_csv") from None
    if not {"documento", "limite"} <= fields:
        raise ValidationError("O CSV deve ter ao menos as colunas 'documento' e 'limite'.", code="invalid_csv")
    if "filial_cnpj" not in fields and not branch_id:
        raise ValidationError("Escolha a filial ou inclua a coluna 'filial_cnpj'.", code="invalid_csv")
    branches = {b.cnpj: b.id for b in session.scalars(select(Branch))}
    results: list[CsvLine] = []
    for number, raw in enumerate(_rows(reader), start=2):
        if number - 1 > MAX_CSV_ROWS:
            raise ValidationError(f"O CSV tem mais de {MAX_CSV_ROWS} linhas; divida o arquivo.", code="csv_too_large")
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        results.append(_import_line(session, actor, number, row, branches, branch_id, reason))
    audit.record(session, actor, "credit.csv_import", "credit_account", None, branch_id=branch_id,
                 summary=f"Importação de limites por CSV: {sum(r.ok for r in results)} de {len(results)} linhas",
                 details={"ok": sum(r.ok for r in results), "errors": sum(not r.ok for r in results)})
    return results


def _rows(reader: csv.DictReader):
    """The CSV's lines; a line the csv module cannot read is a refusal of the file, never a 500."""
    try:
        yield from reader
    except csv.Error as exc:
        raise ValidationError(f"O CSV não pôde ser lido na linha {reader.line_num} ({exc}).",
                              code="invalid_csv") from None


def _import_line(session, actor, number, row, branches, branch_id, reason) -> CsvLine:
    document = row.get("documento", "")
    try:
        doc = normalize_document(document).number
        target_branch = branches.get(normalize_document(row["filial_cnpj"]).number) if row.get(
            "filial_cnpj") else branch_id
        if target_branch is None:
            raise NotFound("Filial do CSV não encontrada.")
        party = session.scalar(select(Party).where(Party.branch_id == target_branch, Party.document == doc))
        if party is None:
            raise NotFound("Cliente não encontrado nesta filial.")
        why = row.get("motivo") or reason or "Importação de limites por CSV"
        with session.begin_nested():
            credit_accounts.set_limit(session, actor, party.id, row.get("limite", ""), why,
                                      tolerance_pct=row.get("tolerancia_pct") or None)
            if row.get("status"):
                credit_accounts.set_status(session, actor, party.id, row["status"].upper(), why)
    except InvalidDocument as exc:
        return CsvLine(number, document, False, exc.message)
    except DomainError as exc:
        fields = getattr(exc, "field_errors", {}) or {}
        return CsvLine(number, document, False, "; ".join(fields.values()) or exc.message)
    return CsvLine(number, document, True, "Limite aplicado.")
