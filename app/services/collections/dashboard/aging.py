"""Panel figure: the overdue open amount and count by aging bucket."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, case, func, literal, null, select
from sqlalchemy.orm import Session

from app.models import Title
from app.models.titles import COLLECTIBLE_STATUSES
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


def _aging_bucket(today: dt.date) -> ColumnElement[str | None]:
    """CASE giving the AGING_BUCKETS key of a title's due date on `today`, NULL when not yet due.

    The buckets are contiguous (1-30, 31-60, ... 180+), so one lower bound per bucket, newest
    first, is enough: each row is compared at most six times (this runs for every open title)."""
    ordered = sorted(AGING_BUCKETS.items(), key=lambda item: item[1][0])
    for (_, (_, high)), (_, (low, _)) in zip(ordered, ordered[1:], strict=False):
        if high is None or low != high + 1:
            raise RuntimeError("titles.AGING_BUCKETS must be contiguous with only the last one open-ended")
    first_low = ordered[0][1][0]
    whens = [(Title.due_date > today - dt.timedelta(days=first_low), null())]
    whens += [
        (Title.due_date >= today - dt.timedelta(days=high), literal(key))
        for key, (_, high) in ordered
        if high is not None
    ]
    last_key, (_, last_high) = ordered[-1]
    return case(*whens, else_=literal(last_key) if last_high is None else null())


def overdue_aging(session: Session, *, branch_id: int | None = None, today: dt.date | None = None) -> Aging:
    """Overdue open amount and count by aging bucket (titles.AGING_BUCKETS).

    Overdue (domain rules, "Titles"): status open or partial, open amount > 0, due date before
    today. Days overdue = today − due date, so "1-30" is due 1 to 30 days ago. The buckets are
    due-date bounds computed here (bound parameters); a title not yet due falls in no bucket.

    The due date is deliberately not a WHERE range: "due before today" covers nearly every title
    ever issued, paid ones included, and SQLite (without statistics) would walk ix_titles_due_date
    and fetch each row (4 s for 1M titles, against 0.7 s for a plain scan). The selective terms
    are the status and the branch: with a branch, the (branch_id, status, due_date) index finds
    only its open and partial titles.
    """
    today = today or today_br()
    collectible = select(_aging_bucket(today).label("bucket"), Title.open_amount).where(
        Title.status.in_(COLLECTIBLE_STATUSES), Title.open_amount > ZERO
    )
    if branch_id is not None:
        collectible = collectible.where(Title.branch_id == branch_id)
    sub = collectible.subquery()
    # GROUP BY the subquery's column: with server-side binding (psycopg 3) the same CASE written
    # twice would carry different bind parameters ($1, $2…), and PostgreSQL would not see them as equal.
    stmt = (
        select(sub.c.bucket, func.count(), func.sum(sub.c.open_amount))
        .where(sub.c.bucket.is_not(None))
        .group_by(sub.c.bucket)
    )
    found = {key: (count, money(amount)) for key, count, amount in session.execute(stmt)}
    buckets = [
        AgingBucket(key, _bucket_label(key), found.get(key, (0, ZERO))[0], found.get(key, (0, ZERO))[1])
        for key in AGING_BUCKETS
    ]
    return Aging(buckets, sum(b.count for b in buckets), sum((b.amount for b in buckets), ZERO))
