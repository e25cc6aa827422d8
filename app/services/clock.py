"""Business dates are in America/Sao_Paulo; instants are stored in UTC."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BR_TZ = ZoneInfo("America/Sao_Paulo")


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today_br() -> dt.date:
    return dt.datetime.now(BR_TZ).date()


def to_br(instant: dt.datetime | None) -> dt.datetime | None:
    return None if instant is None else instant.astimezone(BR_TZ)
