"""The one clock of the product: instants in UTC, business dates in America/Sao_Paulo.

Every "now" and "today" in services, models, web, API, CLI and scheduler comes from here, so a test
that pins the clock (time-machine) pins all of them, and the zone is named in one place.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TIMEZONE = "America/Sao_Paulo"
BR_TZ = ZoneInfo(TIMEZONE)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today_br() -> dt.date:
    return dt.datetime.now(BR_TZ).date()


def now_br() -> dt.datetime:
    return dt.datetime.now(BR_TZ)


def to_br(instant: dt.datetime | None) -> dt.datetime | None:
    return None if instant is None else instant.astimezone(BR_TZ)


def start_of_day_br(day: dt.date) -> dt.datetime:
    """Midnight of `day` in Brasília, as an aware instant (for "since that day" in UTC columns)."""
    return dt.datetime.combine(day, dt.time(), BR_TZ)
