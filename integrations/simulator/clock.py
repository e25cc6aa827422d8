"""Time as the bureau speaks it: instants with offset -03:00, business dates in Brasília time.

Brazil has had no daylight saving time since 2019, so a fixed offset is exact and needs no tzdata.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

BRASILIA = timezone(timedelta(hours=-3))


def now() -> float:
    """Wall-clock seconds since the epoch; stored instants use it so they survive a restart."""
    return time.time()


def iso_instant(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, BRASILIA).isoformat(timespec="seconds")


def local_date(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, BRASILIA).date()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year + years, day=28)
