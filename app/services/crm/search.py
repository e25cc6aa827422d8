"""Listing leads, prospects and clients: search, filters and keyset pagination.

Stays fast with 100k rows (benchmarks/crm_list.py): no OFFSET and no COUNT; a page is "the next
50 after this cursor" on an index, and searches use the indexes of `app.models.party_search`:
- text that looks like a CPF/CNPJ (starts with a digit, or has its punctuation, no spaces)
  searches the document by its beginning;
- text with "@" searches the e-mail by its beginning;
- any other text searches the name by words, in any order, ignoring case and accents: every word
  typed must begin a word of the name ("silva mar" finds "Maria da Silva", "joao" finds "João").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.db import is_postgres
from app.models import Party
from app.models.search_text import fold_words
from app.services.core.ids import as_id
from app.services.core.pagination import decode_cursor as decode_position
from app.services.core.pagination import encode_cursor as encode_position
from app.services.core.pagination import keyset_page

SORTS = {"recent": "Mais recentes", "name": "Nome (A-Z)"}
_DOC_CHARS = re.compile(r"[\s./-]")
_DOC_PREFIX = re.compile(r"^[0-9A-Z]+$")


@dataclass(frozen=True)
class PartyFilter:
    stage: str
    q: str = ""
    branch_id: int | None = None
    status: str | None = None
    sort: str = "recent"


@dataclass(frozen=True)
class Page:
    items: list[Party]
    next_cursor: str | None
    cursor: str | None = None


def search_kind(q: str) -> tuple[str, str]:
    """('document' | 'email' | 'name', normalised term) for a search box text."""
    text = " ".join((q or "").split())
    compact = _DOC_CHARS.sub("", text).upper()
    # A document is typed without spaces, starts with a digit (also the alphanumeric CNPJ) or has
    # its punctuation; "Loja 2000" and "Cliente 0" stay names.
    looks_like_document = " " not in text and (text[:1].isdigit() or any(c in text for c in "./-"))
    if compact and looks_like_document and _DOC_PREFIX.match(compact) and any(c.isdigit() for c in compact):
        return "document", compact
    if "@" in text:
        return "email", text.lower()
    return "name", text


def _like_prefix(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def prefix_clause(session: Session, column, term: str):
    """`column LIKE 'term%'`: PostgreSQL uses a text_pattern_ops index for it; SQLite gets the
    equivalent byte range too, which its index on the same expression serves."""
    clause = column.like(_like_prefix(term), escape="\\")
    if is_postgres(session) or not term or term[-1] == chr(0x10FFFF):  # no character follows the last one
        return clause
    upper = term[:-1] + chr(ord(term[-1]) + 1)
    return and_(column >= term, column < upper, clause)


def _search_clause(session: Session, q: str):
    kind, term = search_kind(q)
    if kind == "document":
        return prefix_clause(session, Party.document, term)
    if kind == "email":
        return prefix_clause(session, Party.email, term)
    return name_matches(term)


def name_matches(text: str):
    """Every word typed begins a word of the name, in any order, case and accents ignored."""
    words = fold_words(text).split()
    if not words:  # only punctuation: nothing to look for, so nothing matches
        return Party.id.is_(None)
    return and_(*[Party.search_name.like("% " + _like_prefix(w), escape="\\") for w in words])


def _order(sort: str) -> tuple:
    return (Party.id,) if sort == "recent" else (Party.name, Party.id)


def encode_cursor(party: Party, sort: str) -> str:
    return encode_position([getattr(party, column.key) for column in _order(sort)])


def decode_cursor(cursor: str | None, sort: str) -> list | None:
    """The keyset position, or None for the first page (a damaged cursor restarts the list)."""
    if not cursor:
        return None
    try:
        payload = decode_position(cursor)
    except ValueError:
        return None
    expected = 1 if sort == "recent" else 2
    # The id must be one the database can hold: 2**70 made up in a cursor was an OverflowError.
    if not isinstance(payload, list) or len(payload) != expected or as_id(payload[-1]) is None \
            or not isinstance(payload[-1], int):
        return None
    if sort == "name" and not isinstance(payload[0], str):
        return None
    return payload


def list_parties(session: Session, flt: PartyFilter, *, cursor: str | None = None, limit: int = 50) -> Page:
    sort = flt.sort if flt.sort in SORTS else "recent"
    stmt = select(Party).where(Party.stage == flt.stage)
    if flt.branch_id:
        stmt = stmt.where(Party.branch_id == flt.branch_id)
    if flt.status:
        stmt = stmt.where(Party.status == flt.status)
    if (flt.q or "").strip():
        stmt = stmt.where(_search_clause(session, flt.q))
    position = decode_cursor(cursor, sort)
    # Most recent first (id descending); by name A-Z (name, then id, ascending).
    items, more = keyset_page(session, stmt, _order(sort), position=position, descending=sort == "recent",
                              limit=limit)
    next_cursor = encode_cursor(items[-1], sort) if more else None
    return Page(items=items, next_cursor=next_cursor, cursor=cursor if position else None)
