"""The ledger of collectible open totals (app/models/title_totals.py): read, compact, rebuild.

The ledger is written by the titles' flush events; here it is summed (the dashboard), compacted to
one row per branch and due date (the `title_totals_compact` job, so reads stay short however many
payments came in), and rebuilt from the titles themselves (`creditdesk title-totals --rebuild`,
after a restore or a bulk change made outside the ORM). `recount` is the truth it must equal
("Titles" in docs/domain-rules.md: collectible = open or partial with an open amount above zero).

Compaction and rebuild replace rows that writers keep appending to. On PostgreSQL they take the
table in EXCLUSIVE mode first: it waits for every transaction that already appended (they hold
ROW EXCLUSIVE until they commit) and makes new appends wait until the replacement commits, so no
delta is summed twice or lost; reads (ACCESS SHARE) are never blocked. SQLite's single writer
(the caller's `BEGIN IMMEDIATE`) gives the same guarantee.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from app.models import Title, TitleOpenTotal
from app.models.titles import COLLECTIBLE_STATUSES

ZERO = Decimal("0.00")
Totals = dict[tuple[int, dt.date], tuple[int, Decimal]]


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE title_open_totals IN EXCLUSIVE MODE"))


def _collectible():
    return select(Title.branch_id, Title.due_date, func.count(), func.sum(Title.open_amount)).where(
        Title.status.in_(COLLECTIBLE_STATUSES), Title.open_amount > ZERO
    ).group_by(Title.branch_id, Title.due_date)


def recount(session: Session, branch_id: int | None = None) -> Totals:
    """The totals counted from the titles (a full scan: for checks and the rebuild, not for pages)."""
    stmt = _collectible()
    if branch_id is not None:
        stmt = stmt.where(Title.branch_id == branch_id)
    return {(b, d): (int(c), a) for b, d, c, a in session.execute(stmt)}


def ledger(session: Session, branch_id: int | None = None) -> Totals:
    """The totals the ledger holds, net of every change; (branch, due date) with nothing open left out."""
    stmt = select(TitleOpenTotal.branch_id, TitleOpenTotal.due_date, func.sum(TitleOpenTotal.open_count),
                  func.sum(TitleOpenTotal.open_amount)).group_by(TitleOpenTotal.branch_id, TitleOpenTotal.due_date)
    if branch_id is not None:
        stmt = stmt.where(TitleOpenTotal.branch_id == branch_id)
    return {(b, d): (int(c), a) for b, d, c, a in session.execute(stmt) if c or a}


def rebuild(session: Session) -> int:
    """Replace the ledger with a recount of the titles; returns the rows written. The caller commits."""
    _lock(session)
    session.execute(delete(TitleOpenTotal))
    cols = ("branch_id", "due_date", "open_count", "open_amount")
    session.execute(insert(TitleOpenTotal).from_select(cols, _collectible()))
    return session.scalar(select(func.count()).select_from(TitleOpenTotal)) or 0


def compact(session: Session) -> tuple[int, int]:
    """One row per (branch, due date) still open; returns (rows before, rows after). The caller commits."""
    _lock(session)
    before = session.scalar(select(func.count()).select_from(TitleOpenTotal)) or 0
    net = ledger(session)
    if before == len(net):
        return before, before
    session.execute(delete(TitleOpenTotal))
    if net:
        session.execute(insert(TitleOpenTotal), [
            {"branch_id": b, "due_date": d, "open_count": c, "open_amount": a} for (b, d), (c, a) in sorted(net.items())
        ])
    return before, len(net)
