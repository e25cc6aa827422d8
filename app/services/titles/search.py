"""The search box and date range of the Títulos list, as SQL clauses for `lifecycle.filtered`.

One box finds a title by its client or by its number, the way the CRM lists find people
(app/services/crm/search.py): a CPF/CNPJ by its beginning, a name by any of its words with case
and accents ignored, and the title number by its beginning, case ignored ("t-1" finds "T-12").
Each clause stays on an index: the client part is a sub-select on the parties' search indexes,
the number part is `upper(number) LIKE 'T-1%'` on `ix_titles_number_upper` (app/models/titles.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select

from app.models import Party, Title
from app.services.crm.search import name_matches, search_kind


def _like_prefix(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def number_prefix(text: str):
    """The title number begins with `text`, case ignored."""
    term = text.strip().upper()
    return func.upper(Title.number).like(_like_prefix(term), escape="\\")


def client_matches(text: str):
    """The title's client has this CPF/CNPJ prefix, or these words in the name."""
    kind, term = search_kind(text)
    # An e-mail typed here is searched as words of the name: the titles list shows no e-mails.
    clause = Party.document.like(_like_prefix(term), escape="\\") if kind == "document" else name_matches(term)
    return Title.party_id.in_(select(Party.id).where(clause))


def search_clause(text: str):
    """Number prefix OR client: "DEMO-17" is a number, "silva" a client, "123.456" a document."""
    return or_(number_prefix(text), client_matches(text))


def due_range(due_from: dt.date | None, due_to: dt.date | None):
    """Due on or after `due_from` and on or before `due_to` (either may be open)."""
    parts = []
    if due_from is not None:
        parts.append(Title.due_date >= due_from)
    if due_to is not None:
        parts.append(Title.due_date <= due_to)
    return and_(*parts) if parts else None
