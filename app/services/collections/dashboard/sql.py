"""SQL helpers shared by the panel's figures: Brasília business dates of stored instants, money, percentages.

Business dates of stored instants ("the day the bureau accepted", "the day the removal was
confirmed", "the day a run started") are taken in America/Sao_Paulo: on PostgreSQL with
`timezone('America/Sao_Paulo', instant)`; SQLite has no time-zone database, so there the fixed
offset UTC−03:00 is used, which is Brasília time since daylight saving was abolished in 2019
(Decreto 9.772/2019).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, Date, cast, func
from sqlalchemy.orm import Session

from app.db import is_postgres
from app.services.core.clock import BR_TZ

ZERO = Decimal("0.00")
PERCENT = Decimal("0.1")
RECENT_DAYS = 30  # removals and runs: the last 30 days, today included


def br_date(session: Session, instant: ColumnElement) -> ColumnElement[dt.date]:
    """The America/Sao_Paulo business date of a stored UTC instant (see the module docstring)."""
    if is_postgres(session):
        return cast(func.timezone(BR_TZ.key, instant), Date)
    return func.date(instant, "-3 hours", type_=Date)


def br_date_plus(session: Session, instant: ColumnElement, days: int) -> ColumnElement[dt.date]:
    """`br_date(instant)` + `days` calendar days."""
    if is_postgres(session):
        return cast(func.timezone(BR_TZ.key, instant), Date) + days
    return func.date(instant, "-3 hours", f"+{int(days)} days", type_=Date)


def start_of_br_day(day: dt.date) -> dt.datetime:
    """The UTC instant at which `day` starts in America/Sao_Paulo (exact, from the tz database)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=BR_TZ).astimezone(dt.UTC)


def money(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(Decimal("0.01"))


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole <= 0:
        return None
    return (part * 100 / whole).quantize(PERCENT, rounding=ROUND_HALF_UP)
