"""Titles (receivables): create, edit, cancel, renegotiate, dispute; list, filter, export.

Overdue is derived (open or partial, open amount > 0, today after the due date). Listing uses
keyset pagination (an opaque cursor of the sort value and the id) over indexed columns, so page
1000 of a million titles costs what page 1 costs; no COUNT(*) is ever run.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import Session, aliased, joinedload, load_only

from app.db import lock_for_update
from app.models import Branch, NegativationTitle, Party, Title
from app.models.titles import COLLECTIBLE_STATUSES, TitleStatus
from app.services.core import audit
from app.services.core.errors import Conflict, NotFound, ValidationError
from app.services.core.ids import as_id
from app.services.core.money import parse_money
from app.services.core.pagination import decode_cursor as decode_position
from app.services.core.pagination import encode_cursor as encode_position
from app.services.core.pagination import keyset_rows
from app.services.credit import accounts as credit_accounts
from app.services.negativations import records as rec
from app.services.titles import search as title_search

AGING_BUCKETS = {
    "1-30": (1, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "91-180": (91, 180),
    "180+": (181, None),
}
SORTS = {
    "due_date": Title.due_date,
    "issue_date": Title.issue_date,
    "number": Title.number,
    "amount": Title.amount,
    "open_amount": Title.open_amount,
    "id": Title.id,
}
EDITABLE_WHEN_NEGATIVATED = ("description", "payment_link", "court_blocked")


def parse_date(value: object) -> dt.date:
    """dd/mm/aaaa or aaaa-mm-dd (or a date) -> date; ValueError otherwise."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = str(value or "").strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {value!r}")


@dataclass(frozen=True)
class TitleInput:
    party_id: int | None
    number: str
    issue_date: object
    due_date: object
    amount: object
    branch_id: int | None = None  # defaults to the client's branch
    description: str = ""
    payment_link: str = ""
    court_blocked: bool = False
    origin: str = "manual"  # manual | import | api (credit_purchase titles come from the credit area)


def clean_input(session: Session, data: TitleInput, *, title: Title | None = None) -> dict:
    """Validated values, or ValidationError with one pt-BR message per field."""
    errors: dict[str, str] = {}
    party = session.get(Party, data.party_id) if data.party_id else None
    if party is None or party.stage != "client":
        errors["party_id"] = "Informe um cliente existente."
    branch_id = data.branch_id or (party.branch_id if party else None)
    if branch_id is None or session.get(Branch, branch_id) is None:
        errors["branch_id"] = "Filial inexistente."
    elif party is not None and branch_id != party.branch_id:
        # Rule 8 (the creditor is the branch): a title is owed to its client's branch, which is the
        # creditor named in a negativation; another branch would negativate in someone else's name.
        errors["branch_id"] = (f"O cliente pertence à filial {party.branch.name}; o título deve ser "
                               "dessa filial.")
    number = (data.number or "").strip()
    if not number or len(number) > 40:
        errors["number"] = "Informe o número do título (até 40 caracteres)."
    dates = {}
    for name, label in (("issue_date", "emissão"), ("due_date", "vencimento")):
        try:
            dates[name] = parse_date(getattr(data, name))
        except ValueError:
            errors[name] = f"Data de {label} inválida (use dd/mm/aaaa)."
    if len(dates) == 2 and dates["due_date"] < dates["issue_date"]:
        errors["due_date"] = "O vencimento não pode ser anterior à emissão."
    try:
        amount = parse_money(data.amount)
        if amount <= 0:
            raise ValueError
    except ValueError:
        errors["amount"] = "Informe um valor maior que zero, com até duas casas decimais."
        amount = None
    if title is not None and amount is not None and amount < title.amount_received:
        errors["amount"] = "O valor não pode ser menor que o já recebido."
    link = (data.payment_link or "").strip()
    if link and not link.startswith(("https://", "http://")):
        errors["payment_link"] = "O link de pagamento deve começar com https://."
    if not errors and branch_id is not None:
        clash = select(Title.id).where(Title.branch_id == branch_id, Title.number == number)
        if title is not None:
            clash = clash.where(Title.id != title.id)
        if session.scalar(clash) is not None:
            errors["number"] = "Já existe um título com este número nesta filial."
    if errors:
        raise ValidationError(
            "Não foi possível salvar o título. Corrija os campos indicados.", field_errors=errors
        )
    return {
        "party_id": party.id,
        "branch_id": branch_id,
        "number": number,
        "amount": amount,
        "description": (data.description or "").strip()[:300] or None,
        "payment_link": link or None,
        "court_blocked": bool(data.court_blocked),
        **dates,
    }


def create_title(session: Session, actor: audit.Actor, data: TitleInput) -> Title:
    values = clean_input(session, data)
    title = Title(
        **values,
        amount_received=Decimal("0.00"),
        open_amount=values["amount"],
        origin=data.origin,
    )
    title.move_to(TitleStatus.OPEN)
    session.add(title)
    session.flush()
    audit.record(
        session,
        actor,
        "title.create",
        "title",
        title.id,
        branch_id=title.branch_id,
        summary=f"Título {title.number} criado",
        details={"amount": str(title.amount)},
    )
    return title


def get_title(session: Session, title_id: int, *, for_update: bool = False) -> Title:
    """The title; `for_update` reads it fresh and locked, for a change of its money or status."""
    title = lock_for_update(session, Title, title_id) if for_update else session.get(Title, title_id)
    if title is None:
        raise NotFound("Título não encontrado.")
    return title


def update_title(session: Session, actor: audit.Actor, title_id: int, data: TitleInput) -> Title:
    title = get_title(session, title_id, for_update=True)
    if title.status not in COLLECTIBLE_STATUSES:
        raise Conflict(f"Título {title.status_label.lower()} não pode ser editado.")
    values = clean_input(session, data, title=title)
    before = {k: getattr(title, k) for k in values}
    if rec.live_negativation_of(session, title.id) is not None:
        changed = [k for k in values if values[k] != before[k] and k not in EDITABLE_WHEN_NEGATIVATED]
        if changed:
            raise Conflict(
                "Título negativado: só descrição, link de pagamento e bloqueio judicial podem "
                "mudar. Remova a negativação antes de alterar valores, datas ou número."
            )
    for key, value in values.items():
        setattr(title, key, value)
    title.open_amount = title.amount - title.amount_received
    audit.record(
        session,
        actor,
        "title.update",
        "title",
        title.id,
        branch_id=title.branch_id,
        summary=f"Título {title.number} alterado",
        details=audit.diff(before, values),
    )
    return title


def cancel_title(session: Session, actor: audit.Actor, title_id: int, reason: str = "") -> int | None:
    """Cancel; a negativated title's entry goes to removal at once (rule 11). Returns that entry's id."""
    title = get_title(session, title_id, for_update=True)
    if title.status not in COLLECTIBLE_STATUSES:
        raise Conflict(f"Título {title.status_label.lower()} não pode ser cancelado.")
    title.move_to(TitleStatus.CANCELLED)
    title.notes = append_note(title.notes, f"Cancelado: {reason}" if reason else "Cancelado")
    audit.record(
        session,
        actor,
        "title.cancel",
        "title",
        title.id,
        branch_id=title.branch_id,
        summary=f"Título {title.number} cancelado",
        details={"reason": reason},
    )
    credit_accounts.on_titles_changed(session, title.party_id, actor)  # rule 21: the platform hears the limit
    return rec.on_title_closed(session, title, "error_correction", actor, f"título {title.number} cancelado")


def renegotiate_title(session: Session, actor: audit.Actor, title_id: int, note: str = "") -> int | None:
    """Mark renegotiated; rule 10: a renegotiation removes the entry. Returns that entry's id."""
    title = get_title(session, title_id, for_update=True)
    if title.status not in COLLECTIBLE_STATUSES:
        raise Conflict(f"Título {title.status_label.lower()} não pode ser renegociado.")
    mark_renegotiated(session, actor, title, note)
    return rec.on_title_closed(session, title, "agreement", actor, f"título {title.number} renegociado")


def mark_renegotiated(session: Session, actor: audit.Actor, title: Title, note: str = "") -> None:
    """The title's own side of a renegotiation: status, note, audit and the credit it frees (rule
    21); the caller deals with its negativation (rule 10: an agreement removes the entry)."""
    title.move_to(TitleStatus.RENEGOTIATED)
    title.notes = append_note(title.notes, f"Renegociado: {note}" if note else "Renegociado")
    audit.record(
        session,
        actor,
        "title.renegotiate",
        "title",
        title.id,
        branch_id=title.branch_id,
        summary=f"Título {title.number} renegociado",
        details={"note": note},
    )
    credit_accounts.on_titles_changed(session, title.party_id, actor)  # rule 21: the platform hears the limit


def set_dispute(
    session: Session, actor: audit.Actor, title_id: int, disputed: bool, reason: str = ""
) -> Title:
    """Rule 4: a disputed title is never negativated until a person clears the dispute."""
    title = get_title(session, title_id, for_update=True)
    reason = (reason or "").strip()
    if disputed and not reason:
        message = "Informe o motivo da disputa."
        raise ValidationError(message, field_errors={"dispute_reason": message})
    title.disputed, title.dispute_reason = disputed, (reason[:300] if disputed else None)
    audit.record(
        session,
        actor,
        "title.dispute" if disputed else "title.undispute",
        "title",
        title.id,
        branch_id=title.branch_id,
        summary=f"Título {title.number} " + ("marcado em disputa" if disputed else "sem disputa"),
        details={"reason": reason},
    )
    if disputed:
        rec.note_dispute(session, title, actor)
    return title


def append_note(notes: str | None, line: str) -> str:
    return f"{notes}\n{line}" if notes else line


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class TitleFilter:
    branch_id: int | None = None
    party_id: int | None = None
    status: str | None = None
    overdue: bool | None = None
    aging: str | None = None  # one of AGING_BUCKETS
    negativated: bool | None = None
    number: str | None = None  # prefix, case ignored
    q: str | None = None  # client name words, CPF/CNPJ or number prefix (titles/search.py)
    due_from: dt.date | None = None
    due_to: dt.date | None = None


@dataclass
class TitlePage:
    items: list[Title]
    next_cursor: str | None
    negativated: set[int] = field(default_factory=set)


def _negativated_clause():
    # `live`, not `live IS true` (the same for a NOT NULL column), here as everywhere: only the plain
    # form matches the partial unique index on live entries (ux_negativation_titles_live_title).
    return exists().where(NegativationTitle.title_id == Title.id, NegativationTitle.live)


def filtered(flt: TitleFilter, today: dt.date, session: Session) -> Select:
    """The titles `flt` selects (`session`: a search looks its clients up first, search.py)."""
    stmt = select(Title)
    if flt.branch_id:
        stmt = stmt.where(Title.branch_id == flt.branch_id)
    if flt.party_id:
        stmt = stmt.where(Title.party_id == flt.party_id)
    if flt.status:
        stmt = stmt.where(Title.status == flt.status)
    if flt.number and flt.number.strip():
        stmt = stmt.where(title_search.number_prefix(flt.number, session))
    if flt.q and flt.q.strip():
        stmt = stmt.where(title_search.search_clause(flt.q, session))
    due_range = title_search.due_range(flt.due_from, flt.due_to)
    if due_range is not None:
        stmt = stmt.where(due_range)
    overdue = and_(Title.status.in_(COLLECTIBLE_STATUSES), Title.open_amount > 0, Title.due_date < today)
    if flt.overdue is True or flt.aging:
        stmt = stmt.where(overdue)
    elif flt.overdue is False:
        stmt = stmt.where(~overdue)
    if flt.aging:
        if flt.aging not in AGING_BUCKETS:
            raise ValidationError("Faixa de atraso inválida.", field_errors={"aging": "inválida"})
        low, high = AGING_BUCKETS[flt.aging]
        stmt = stmt.where(Title.due_date <= today - dt.timedelta(days=low))
        if high is not None:
            stmt = stmt.where(Title.due_date >= today - dt.timedelta(days=high))
    if flt.negativated is not None:
        stmt = stmt.where(_negativated_clause() if flt.negativated else ~_negativated_clause())
    return stmt


def encode_cursor(sort: str, title: Title) -> str:
    value = getattr(title, sort)
    return encode_position([value.isoformat() if isinstance(value, dt.date) else str(value), title.id])


_CURSOR_ID = re.compile(r"[0-9]{1,19}")
_CURSOR_AMOUNT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,2})?")


def _decode_cursor(sort: str, cursor: str) -> tuple[object, int]:
    """The keyset position in a cursor made by encode_cursor. A cursor edited by hand (a NaN or
    "abc" amount, an id past the id columns' range) is refused here instead of reaching SQL."""
    try:
        value, last_id = decode_position(cursor)
        if not isinstance(value, str) or not isinstance(last_id, int) or as_id(last_id) is None:
            raise ValueError(cursor)  # past the id columns' range it would be a database error
        if sort in ("due_date", "issue_date"):
            return dt.date.fromisoformat(value), last_id
        if sort in ("amount", "open_amount"):
            if not _CURSOR_AMOUNT.fullmatch(value):
                raise ValueError(value)
            return Decimal(value), last_id
        if sort == "id" and (not _CURSOR_ID.fullmatch(value) or as_id(value) is None):
            raise ValueError(value)
        return (int(value) if sort == "id" else value), last_id
    except (ValueError, ArithmeticError, UnicodeDecodeError) as exc:
        raise ValidationError("Página inválida; volte para a primeira.", code="invalid_cursor",
                              field_errors={"cursor": "Use o cursor devolvido pela página anterior."}) from exc


# What the titles table (titles/_table.html) reads, sort columns included (the cursor): a title has
# 25 columns and its client 27, and the driver converted them all for each row.
_TABLE_COLUMNS = (
    load_only(Title.id, Title.party_id, Title.branch_id, Title.number, Title.issue_date, Title.due_date,
              Title.amount, Title.amount_received, Title.open_amount, Title.status, Title.disputed),
    joinedload(Title.party).load_only(Party.id, Party.name),
    joinedload(Title.branch).load_only(Branch.id, Branch.name),
)


def list_titles(
    session: Session,
    flt: TitleFilter,
    *,
    today: dt.date,
    sort: str = "due_date",
    desc: bool = False,
    cursor: str | None = None,
    limit: int = 50,
    table_only: bool = False,
) -> TitlePage:
    """A page of titles; `table_only` (web lists) loads just what the table shows, not whole titles."""
    if sort not in SORTS:
        sort = "due_date"
    # One statement per page: each title with its client and branch (many-to-one joins) and its live
    # entry, if any, through the partial unique index (at most one per title, rule 7). As an EXISTS,
    # PostgreSQL hashed every live entry for each page: 1.1 of 1.6 ms, growing with the entries.
    options = _TABLE_COLUMNS if table_only else (joinedload(Title.party), joinedload(Title.branch))
    live = aliased(NegativationTitle)
    stmt = (filtered(flt, today, session).options(*options)
            .outerjoin(live, and_(live.title_id == Title.id, live.live))
            .add_columns(live.id.is_not(None).label("negativated")))
    position = _decode_cursor(sort, cursor) if cursor else None
    rows, more = keyset_rows(session, stmt, (SORTS[sort], Title.id), position=position, descending=desc,
                             limit=limit)
    items = [row[0] for row in rows]
    negativated = {row[0].id for row in rows if row[1]}
    return TitlePage(items, encode_cursor(sort, items[-1]) if more else None, negativated)
