"""The collectible open amount by branch and due date, kept as a ledger of changes.

The collections dashboard's aging ("Titles" in docs/domain-rules.md: overdue = open or partial,
open amount > 0, due date before today) would otherwise scan every open title on each view. Every
flush that inserts, changes or deletes a title appends here, in the same transaction, what that
changed in the collectible count and amount of its (branch, due date). The dashboard sums the
ledger by due date and buckets the dates by age at read time, so nothing has to move at midnight.

Append-only on purpose: a payment, a cancellation and an import in parallel each insert their own
row, so writers never wait on a shared counter row (an UPDATE of one hot row per branch and day
would serialise them). `app.services.titles.open_totals` compacts the ledger (one row per branch
and due date) and rebuilds it from the titles (the recount the tests compare it with).

Written from the mapper's flush events, so every ORM write path (web, API, CSV import, credit
invoicing, collections, tests) keeps it without knowing it exists. A bulk UPDATE of titles in Core
would bypass it: there is none, and a new one must call `open_totals.rebuild` or write its deltas.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .titles import COLLECTIBLE_STATUSES, Title

ZERO = Decimal("0.00")
# The attributes a title's contribution depends on; they load their old value before a change
# (active_history on the Title columns), so an update knows what it takes away.
TRACKED = ("branch_id", "due_date", "status", "open_amount")


class TitleOpenTotal(Base):
    __tablename__ = "title_open_totals"
    __table_args__ = (Index("ix_title_open_totals_branch_due", "branch_id", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    due_date: Mapped[dt.date]
    open_count: Mapped[int]  # collectible titles added (negative: taken away)
    open_amount: Mapped[Decimal]  # their open amount added (negative: taken away)


Key = tuple[int, dt.date]


def contribution(branch_id, due_date, status, open_amount) -> tuple[Key, Decimal] | None:
    """What one title adds to the totals: its (branch, due date) and open amount when collectible."""
    if status in COLLECTIBLE_STATUSES and open_amount is not None and open_amount > ZERO:
        return (branch_id, due_date), open_amount
    return None


def _current(target) -> tuple[Key, Decimal] | None:
    return contribution(*(getattr(target, name) for name in TRACKED))


def _previous(target) -> tuple[Key, Decimal] | None:
    state = inspect(target)
    values = []
    for name in TRACKED:
        history = state.attrs[name].history
        if history.deleted:
            values.append(history.deleted[0])
        elif history.unchanged:
            values.append(history.unchanged[0])
        else:
            values.append(getattr(target, name))
    return contribution(*values)


def _append(connection, changes: list[tuple[tuple[Key, Decimal] | None, int]]) -> None:
    deltas: dict[Key, list] = {}
    for item, sign in changes:
        if item is None:
            continue
        key, amount = item
        entry = deltas.setdefault(key, [0, ZERO])
        entry[0] += sign
        entry[1] += sign * amount
    rows = [{"branch_id": b, "due_date": d, "open_count": c, "open_amount": a}
            for (b, d), (c, a) in sorted(deltas.items()) if c or a]
    if rows:
        connection.execute(TitleOpenTotal.__table__.insert(), rows)


@event.listens_for(Title, "after_insert")
def _title_inserted(mapper, connection, target) -> None:
    _append(connection, [(_current(target), 1)])


@event.listens_for(Title, "after_update")
def _title_updated(mapper, connection, target) -> None:
    _append(connection, [(_previous(target), -1), (_current(target), 1)])


@event.listens_for(Title, "after_delete")
def _title_deleted(mapper, connection, target) -> None:
    _append(connection, [(_previous(target), -1)])
