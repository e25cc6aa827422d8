"""Keyset pagination: "the next N rows after this one" in an indexed order.

A page costs the same at the first row and at the millionth, and rows written meanwhile neither
repeat nor vanish between pages (OFFSET does both). The order's last column must be unique (the
id), so that every row has one position. Lists that page this way hand out an opaque cursor
(`encode_cursor`) or, when the order is the id alone, the id itself.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session


def after_position(order: Sequence[Any], position: Sequence[Any], *, descending: bool = False):
    """The rows after `position` (the values of `order`'s columns in the last row shown).

    (a, id) after (va, vid) is `a > va OR (a = va AND id > vid)`; the leading `a >= va` lets both
    databases start the index range at the position instead of filtering the whole index."""
    if len(order) != len(position) or not order:
        raise ValueError("a keyset position has one value per ordering column")

    def beyond(column, value):
        return column < value if descending else column > value

    def after(i: int):
        if i == len(order) - 1:
            return beyond(order[i], position[i])
        return or_(beyond(order[i], position[i]), and_(order[i] == position[i], after(i + 1)))

    if len(order) == 1:
        return after(0)
    lead = order[0] <= position[0] if descending else order[0] >= position[0]
    return and_(lead, after(0))


def _page_statement(stmt: Select, order: Sequence[Any], position: Sequence[Any] | None, descending: bool,
                    limit: int) -> Select:
    if position is not None:
        stmt = stmt.where(after_position(order, position, descending=descending))
    stmt = stmt.order_by(*(column.desc() if descending else column.asc() for column in order))
    return stmt.limit(limit + 1)


def keyset_page(session: Session, stmt: Select, order: Sequence[Any], *, position: Sequence[Any] | None = None,
                descending: bool = False, limit: int = 50) -> tuple[list[Any], bool]:
    """(up to `limit` rows of `stmt` after `position` in `order`, whether more rows follow)."""
    rows = list(session.scalars(_page_statement(stmt, order, position, descending, limit)))
    return rows[:limit], len(rows) > limit


def keyset_rows(session: Session, stmt: Select, order: Sequence[Any], *, position: Sequence[Any] | None = None,
                descending: bool = False, limit: int = 50) -> tuple[list[Any], bool]:
    """`keyset_page` keeping every column of each row (an entity with computed columns beside it)."""
    rows = list(session.execute(_page_statement(stmt, order, position, descending, limit)))
    return rows[:limit], len(rows) > limit


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque, URL-safe cursor of a position (JSON values: text and integers)."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


MAX_CURSOR = 1024  # a real cursor holds one sort value and an id: far shorter


def decode_cursor(cursor: str) -> list[Any]:
    """The position a cursor holds; ValueError when it was damaged or made up.

    A made-up cursor can be long or deeply nested JSON ("[[[[...") whose parsing is a RecursionError,
    not a ValueError: both are refused before json reads them."""
    if len(cursor) > MAX_CURSOR:
        raise ValueError("cursor too long")
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValueError(f"not a cursor: {cursor!r}") from exc
    if not isinstance(payload, list) or not payload:
        raise ValueError(f"not a cursor: {cursor!r}")
    return payload
