"""Panel figure: the overdue open amount and count by aging bucket, from the ledger of open totals.

The totals per (branch, due date) are kept in the same transaction as every title change
(app/models/title_totals.py), so the panel sums a few thousand rows (one per due date still open)
instead of every open title: the figures are exact as of the last commit, and cost the same at a
thousand titles or a million."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, case, func, literal, null, select
from sqlalchemy.orm import Session

from app.models import TitleOpenTotal
from app.services.collections.dashboard.sql import ZERO, money
from app.services.core.clock import today_br
from app.services.titles.lifecycle import AGING_BUCKETS


@dataclass(frozen=True)
class AgingBucket:
    key: str  # one of titles.AGING_BUCKETS: "1-30", "31-60", "61-90", "91-180", "180+"
    label: str  # "1–30 dias"
    count: int
    amount: Decimal  # sum of open amounts


@dataclass(frozen=True)
class Aging:
    buckets: list[AgingBucket]
    count: int
    amount: Decimal


def _bucket_label(key: str) -> str:
    return key.replace("-", "–") + " dias"


def _aging_bucket(today: dt.date, due_date: ColumnElement[dt.date]) -> ColumnElement[str | None]:
    """CASE giving the AGING_BUCKETS key of a title's due date on `today`, NULL when not yet due.

    The buckets are contiguous (1-30, 31-60, ... 180+), so one lower bound per bucket, newest
    first, is enough: each row is compared at most six times."""
    ordered = sorted(AGING_BUCKETS.items(), key=lambda item: item[1][0])
    for (_, (_, high)), (_, (low, _)) in zip(ordered, ordered[1:], strict=False):
        if high is None or low != high + 1:
            raise RuntimeError("titles.AGING_BUCKETS must be contiguous with only the last one open-ended")
    first_low = ordered[0][1][0]
    whens = [(due_date > today - dt.timedelta(days=first_low), null())]
    whens += [
        (due_date >= today - dt.timedelta(days=high), literal(key))
        for key, (_, high) in ordered
        if high is not None
    ]
    last_key, (_, last_high) = ordered[-1]
    return case(*whens, else_=literal(last_key) if last_high is None else null())


def overdue_aging(session: Session, *, branch_id: int | None = None, today: dt.date | None = None) -> Aging:
    """Overdue open amount and count by aging bucket (titles.AGING_BUCKETS).

    Overdue ("Titles" in docs/domain-rules.md): status open or partial, open amount > 0, due date
    before today; the ledger holds exactly those titles' counts and amounts by due date. Days
    overdue = today − due date, so "1-30" is due 1 to 30 days ago. The buckets are due-date bounds
    computed here (bound parameters); a due date not yet reached falls in no bucket.
    """
    today = today or today_br()
    ledger = select(
        _aging_bucket(today, TitleOpenTotal.due_date).label("bucket"),
        TitleOpenTotal.open_count,
        TitleOpenTotal.open_amount,
    )
    if branch_id is not None:
        ledger = ledger.where(TitleOpenTotal.branch_id == branch_id)
    sub = ledger.subquery()
    # GROUP BY the subquery's column: with server-side binding (psycopg 3) the same CASE written
    # twice would carry different bind parameters ($1, $2…), and PostgreSQL would not see them as equal.
    stmt = (
        select(sub.c.bucket, func.sum(sub.c.open_count), func.sum(sub.c.open_amount))
        .where(sub.c.bucket.is_not(None))
        .group_by(sub.c.bucket)
    )
    found = {key: (int(count), money(amount)) for key, count, amount in session.execute(stmt)}
    buckets = [
        AgingBucket(key, _bucket_label(key), found.get(key, (0, ZERO))[0], found.get(key, (0, ZERO))[1])
        for key in AGING_BUCKETS
    ]
    return Aging(buckets, sum(b.count for b in buckets), sum((b.amount for b in buckets), ZERO))
