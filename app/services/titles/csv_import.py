"""CSV import of titles and of payments, all or nothing, with a line-by-line error report.

Every line is validated first (against the database AND the rest of the file: duplicate numbers,
several payments of one title adding up past its open amount); only a file with no bad line is
written, in the caller's transaction. Separator ';' or ','; dates dd/mm/aaaa or aaaa-mm-dd;
amounts 1.234,56 or 1234.56. Line numbers count the header as line 1, as a spreadsheet shows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.models import Branch, Party, Title
from app.models.titles import COLLECTIBLE_STATUSES, TitleStatus
from app.services.core import audit
from app.services.core.clock import today_br
from app.services.core.documents import InvalidDocument, normalize_cnpj, normalize_document
from app.services.core.money import brl, parse_money
from app.services.negativations import records as rec
from app.services.titles.lifecycle import parse_date
from app.services.titles.payments import register_payment

TITLE_COLUMNS = ("filial_cnpj", "cliente_documento", "numero", "emissao", "vencimento", "valor")
TITLE_OPTIONAL = ("descricao", "link_pagamento")
PAYMENT_COLUMNS = ("filial_cnpj", "numero", "data", "valor")
PAYMENT_OPTIONAL = ("forma", "referencia")
MAX_LINES = 50_000
CHUNK = 500


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


@dataclass
class ImportReport:
    kind: str  # titles | payments
    lines: int = 0
    written: int = 0
    errors: list[LineError] = field(default_factory=list)
    removal_ids: list[int] = field(default_factory=list)  # send after commit (payments on negativated titles)

    @property
    def ok(self) -> bool:
        return not self.errors


def _rows(
    content: bytes | str, required: tuple[str, ...], optional: tuple[str, ...], report: ImportReport
) -> list[tuple[int, dict[str, str]]]:
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = content.decode("latin-1")  # spreadsheets saved as "CSV (Windows)"
    lines = content.splitlines()
    if not lines or not lines[0].strip():
        report.errors.append(LineError(1, "Arquivo vazio: a primeira linha deve ter os nomes das colunas."))
        return []
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(content), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    if missing or unknown:
        parts = ([f"faltam as colunas {', '.join(missing)}"] if missing else []) + (
            [f"colunas desconhecidas {', '.join(unknown)}"] if unknown else []
        )
        report.errors.append(
            LineError(
                1,
                "Cabeçalho inválido: "
                + "; ".join(parts)
                + ". Esperado: "
                + delimiter.join(required + optional)
                + ".",
            )
        )
        return []
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            report.errors.append(
                LineError(number, f"A linha tem {len(values)} colunas; o cabeçalho tem {len(header)}.")
            )
            continue
        rows.append((number, {h: v.strip() for h, v in zip(header, values, strict=True)}))
    report.lines = len(rows)
    if len(rows) > MAX_LINES:
        report.errors.append(LineError(1, f"Arquivo com {len(rows)} linhas; o máximo é {MAX_LINES}."))
        return []
    return rows


def _branches(session: Session, rows, report: ImportReport) -> dict[int, int]:
    """line -> branch id, from the filial_cnpj column."""
    by_cnpj = {b.cnpj: b.id for b in session.scalars(select(Branch))}
    out = {}
    for line, row in rows:
        try:
            cnpj = normalize_cnpj(row["filial_cnpj"]).number
        except InvalidDocument as exc:
            report.errors.append(LineError(line, f"filial_cnpj: {exc.message}"))
            continue
        if cnpj not in by_cnpj:
            report.errors.append(LineError(line, "filial_cnpj: filial não cadastrada."))
            continue
        out[line] = by_cnpj[cnpj]
    return out


def import_titles(session: Session, actor: audit.Actor, content: bytes | str) -> ImportReport:
    rec.require_writer(actor)
    report = ImportReport("titles")
    rows = _rows(content, TITLE_COLUMNS, TITLE_OPTIONAL, report)
    branch_of = _branches(session, rows, report)
    docs: dict[int, str] = {}
    for line, row in rows:
        try:
            docs[line] = normalize_document(row["cliente_documento"]).number
        except InvalidDocument as exc:
            report.errors.append(LineError(line, f"cliente_documento: {exc.message}"))
    party_keys = {(branch_of[ln], docs[ln]) for ln in docs if ln in branch_of}
    parties = _in_chunks(
        session,
        select(Party.branch_id, Party.document, Party.id, Party.stage),
        (Party.branch_id, Party.document),
        party_keys,
    )
    number_keys = {(branch_of[ln], r["numero"]) for ln, r in rows if ln in branch_of}
    existing = _in_chunks(
        session, select(Title.branch_id, Title.number, Title.id), (Title.branch_id, Title.number), number_keys
    )
    seen: dict[tuple[int, str], int] = {}
    new_titles: list[Title] = []
    for line, row in rows:
        problems = []
        party = parties.get((branch_of.get(line), docs.get(line)))
        if line in branch_of and line in docs and (party is None or party[1] != "client"):
            problems.append("cliente_documento: nenhum cliente com este documento nesta filial")
        number = row["numero"]
        if not number or len(number) > 40:
            problems.append("numero: obrigatório, até 40 caracteres")
        elif line in branch_of:
            key = (branch_of[line], number)
            if key in existing:
                problems.append(f"numero: o título {number} já existe nesta filial")
            elif key in seen:
                problems.append(f"numero: repetido no arquivo (linha {seen[key]})")
            seen.setdefault(key, line)
        dates = {}
        for col in ("emissao", "vencimento"):
            try:
                dates[col] = parse_date(row[col])
            except ValueError:
                problems.append(f"{col}: data inválida (use dd/mm/aaaa)")
        if len(dates) == 2 and dates["vencimento"] < dates["emissao"]:
            problems.append("vencimento: anterior à emissão")
        amount = _amount(row["valor"], problems)
        link = row.get("link_pagamento", "")
        if link and not link.startswith(("https://", "http://")):
            problems.append("link_pagamento: deve começar com https://")
        if problems:
            report.errors.extend(LineError(line, p) for p in problems)
            continue
        if line not in branch_of or line not in docs:
            continue  # its branch or document error is already reported
        title = Title(
            branch_id=branch_of[line],
            party_id=party[0],
            number=number,
            issue_date=dates["emissao"],
            due_date=dates["vencimento"],
            amount=amount,
            amount_received=Decimal("0.00"),
            open_amount=amount,
            origin="import",
            description=row.get("descricao") or None,
            payment_link=link or None,
        )
        title.move_to(TitleStatus.OPEN)
        new_titles.append(title)
    if report.errors:
        return report  # a bad line changes nothing
    session.add_all(new_titles)
    session.flush()
    report.written = len(new_titles)
    audit.record(
        session,
        actor,
        "title.import",
        "title",
        None,
        summary=f"Importação de {report.written} títulos",
        details={"lines": report.lines},
    )
    return report


def import_payments(
    session: Session, actor: audit.Actor, content: bytes | str, *, today: dt.date | None = None
) -> ImportReport:
    today = today or today_br()
    report = ImportReport("payments")
    rows = _rows(content, PAYMENT_COLUMNS, PAYMENT_OPTIONAL, report)
    branch_of = _branches(session, rows, report)
    number_keys = {(branch_of[ln], r["numero"]) for ln, r in rows if ln in branch_of}
    titles = _in_chunks(
        session,
        select(Title.branch_id, Title.number, Title.id, Title.status, Title.open_amount),
        (Title.branch_id, Title.number),
        number_keys,
    )
    remaining: dict[int, Decimal] = {}
    valid: list[tuple[int, int, Decimal, dt.date, dict]] = []
    for line, row in rows:
        problems = []
        found = titles.get((branch_of.get(line), row["numero"])) if line in branch_of else None
        if line in branch_of and found is None:
            problems.append(f"numero: título {row['numero']} não encontrado nesta filial")
        elif found is not None and found[1] not in COLLECTIBLE_STATUSES:
            problems.append(f"numero: título {row['numero']} não está em aberto")
        try:
            day = parse_date(row["data"])
            if day > today:
                problems.append("data: não pode ser futura")
        except ValueError:
            problems.append("data: data inválida (use dd/mm/aaaa)")
        amount = _amount(row["valor"], problems)
        if found is not None and amount is not None and not problems:
            left = remaining.setdefault(found[0], found[2])
            if amount > left:
                problems.append(f"valor: {brl(amount)} maior que o saldo em aberto ({brl(left)})")
            else:
                remaining[found[0]] = left - amount
        if problems:
            report.errors.extend(LineError(line, p) for p in problems)
            continue
        if found is None:
            continue  # its branch error is already reported
        valid.append((line, found[0], amount, day, row))
    if report.errors:
        return report  # a bad line changes nothing
    for _line, title_id, amount, day, row in valid:
        result = register_payment(
            session,
            actor,
            title_id,
            amount,
            day,
            method=row.get("forma"),
            reference=row.get("referencia"),
            today=today,
        )
        report.removal_ids.extend(result.removal_ids)
    report.written = len(valid)
    return report


def _amount(raw: str, problems: list[str]) -> Decimal | None:
    try:
        value = parse_money(raw)
        if value <= 0:
            raise ValueError
        return value
    except ValueError:
        problems.append("valor: informe um valor maior que zero, com até duas casas decimais")
        return None


def _in_chunks(session: Session, stmt, key_cols, keys: set) -> dict[tuple, tuple]:
    """(k1, k2) -> the remaining selected columns, looked up CHUNK keys at a time."""
    out: dict[tuple, tuple] = {}
    keys = sorted(keys)
    for start in range(0, len(keys), CHUNK):
        for row in session.execute(stmt.where(tuple_(*key_cols).in_(keys[start : start + CHUNK]))):
            out[(row[0], row[1])] = tuple(row[2:])
    return out
