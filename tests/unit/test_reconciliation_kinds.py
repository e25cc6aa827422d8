"""The six divergence kinds, each from two snapshots (no database, no bureau)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.services.reconciliation.kinds import REMOVAL_GRACE, BureauView, LocalView, classify

NOW = dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.UTC)


def local(status="active", titles=(("T-1", "open"),), amount="100.00", requested=None):
    return LocalView(status, Decimal(amount), dt.date(2026, 3, 20), requested, None, None, tuple(titles))


def bureau(status="active", amount="100.00"):
    return BureauView(True, status, None, None, None, Decimal(amount) if amount else None)


@pytest.mark.parametrize(("here", "there", "expected"), [
    (local("active"), bureau("active"), []),
    (local("notice"), bureau("notice"), []),
    (local("removed"), bureau("removed"), []),
    (local("removal_pending"), bureau("removed"), []),  # the removal in flight; the outbox records it
    (local("active"), bureau("removed"), ["removed_at_bureau"]),
    (local("notice"), bureau("rejected"), ["removed_at_bureau"]),
    (local("removed"), bureau("active"), ["live_at_bureau"]),
    (local("notice"), BureauView(False, message="404"), ["unknown_protocol"]),
    (local("removed"), BureauView(False, message="404"), []),  # nothing live on either side
    (local("removed", titles=(("T-1", "paid"), ("T-2", "cancelled"))), bureau("active"), ["settled_but_live"]),
    (local("active", titles=(("T-1", "renegotiated"),)), bureau("notice"), ["settled_but_live"]),
    (local("notice"), bureau("active"), ["notice_over"]),
    (local("active"), bureau("active", "90.00"), ["amount_differs"]),
    (local("active"), bureau("active", None), []),  # a bureau that does not say the amount
    (local("notice"), bureau("active", "1.00"), ["notice_over", "amount_differs"]),
])
def test_classify(here, there, expected):
    assert classify(here, there, NOW) == expected


def test_a_removal_just_requested_is_not_an_alert_until_the_grace_passes():
    paid = (("T-1", "paid"),)
    fresh = local("removal_pending", titles=paid, requested=NOW - dt.timedelta(minutes=2))
    stale = local("removal_pending", titles=paid, requested=NOW - REMOVAL_GRACE - dt.timedelta(seconds=1))
    assert classify(fresh, bureau("active"), NOW) == []
    assert classify(stale, bureau("active"), NOW) == ["settled_but_live"]


def test_the_daily_run_time_comes_from_the_setting_in_sao_paulo():
    from app.services.reconciliation.runs import run_time_today

    day = dt.date(2026, 3, 16)
    assert run_time_today({"RECONCILIATION_TIME": "05:30"}, day).isoformat() == "2026-03-16T05:30:00-03:00"
    assert run_time_today({"RECONCILIATION_TIME": "25h"}, day).isoformat() == "2026-03-16T04:00:00-03:00"
