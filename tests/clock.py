"""Pinning the product's clock in a test: every "now" and "today" (services, models, fakes) moves."""

from __future__ import annotations

import datetime as dt

import time_machine

from app.services.core.clock import BR_TZ


def pin_clock(day: dt.date, hour: int = 12) -> time_machine.travel:
    """A time-machine traveller to `day` at `hour` in Brasília; it ticks, so sleeps and leases work."""
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), BR_TZ), tick=True)
