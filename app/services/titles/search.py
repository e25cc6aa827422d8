"""The search box and date range of the Títulos list, as SQL clauses for `lifecycle.filtered`.

One box finds a title by its client or by its number, the way the CRM lists find people
(app/services/crm/search.py): a CPF/CNPJ by its beginning, a name by any of its words with case
and accents ignored, and the title number by its beginning, case ignored ("t-1" finds "T-12").
Each clause stays on an index: the client part on the parties' search indexes (then the titles by
client), the number part on `ix_titles_number_upper` (app/models/titles.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.models import Party, Title
from app.services.crm.search import name_matches, prefix_clause, search_kind

# A search matching at most this many clients, or titles by number, reads its matches by index and
# sorts them; past either, it walks the list's order, where matches come early (search_clause).
LISTED_CLIENTS = 1000
LISTED_NUMBERS = 5000


def _like_prefix(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _number_like(term: str):
    return func.upper(Title.number).like(_like_prefix(term), escape="\\")


def _few_numbers(session: Session, indexed) -> bool:
    """Whether at most LISTED_NUMBERS titles have a number with this prefix (an index range, cut short)."""
    probe = select(Title.id).where(indexed).limit(LISTED_NUMBERS + 1).subquery()
    return session.scalar(select(func.count()).select_from(probe)) <= LISTED_NUMBERS


def number_prefix(text: str, session: Session):
    """The title number begins with `text`, case ignored ("t-1" finds "T-12").

    `upper(number) LIKE 'T-1%'`, with, when few titles match, the range SQLite's index on the same
    expression serves (crm.search.prefix_clause; PostgreSQL's index serves the LIKE itself)."""
    term = text.strip().upper()
    indexed = prefix_clause(session, func.upper(Title.number), term)
    return indexed if _few_numbers(session, indexed) else _number_like(term)


def search_clause(text: str, session: Session):
    """Number prefix OR client: "DEMO-17" is a number, "silva" a client, "123.456" a document.

    The clients (by CPF/CNPJ prefix or words of the name) and the numbers are counted first, each
    cut short. When both are few, the clients are named by id and the number is searched as an index
    range: the database reads the matches and sorts them. Before, PostgreSQL estimated the client
    sub-select to match half of the titles, and SQLite could not use an index for the number, so a
    search that found few titles or none walked the whole due-date index (0.8-1.9 s at 1,000,000
    titles, docs/benchmarks.md). When either is many, the walk is the right plan, and the clause
    keeps the form that leads both databases to it."""
    kind, term = search_kind(text)
    number = text.strip().upper()
    indexed_number = prefix_clause(session, func.upper(Title.number), number)
    # An e-mail typed here is searched as words of the name: the titles list shows no e-mails.
    clause = prefix_clause(session, Party.document, term) if kind == "document" else name_matches(term)
    clients = select(Party.id).where(clause)
    ids = session.scalars(clients.limit(LISTED_CLIENTS + 1)).all()
    if len(ids) <= LISTED_CLIENTS and _few_numbers(session, indexed_number):
        return or_(indexed_number, Title.party_id.in_(ids))
    return or_(_number_like(number), Title.party_id.in_(clients))


def due_range(due_from: dt.date | None, due_to: dt.date | None):
    """Due on or after `due_from` and on or before `due_to` (either may be open)."""
    parts = []
    if due_from is not None:
        parts.append(Title.due_date >= due_from)
    if due_to is not None:
        parts.append(Title.due_date <= due_to)
    return and_(*parts) if parts else None
