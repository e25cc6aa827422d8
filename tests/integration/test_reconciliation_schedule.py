"""The daily reconciliation: due at RECONCILIATION_TIME (São Paulo), made once a day, queued runs too."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.models.reconciliation import ReconciliationRun
from app.services.core.audit import Actor
from app.services.core.clock import BR_TZ
from app.services.reconciliation.runs import queue_run, tick
from tests.clock import pin_clock
from tests.integration.titles_support import TODAY, world


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(TODAY, dt.time(hour, minute), BR_TZ)


def test_daily_run_once_after_its_time_and_queued_runs_carried_out(services, session):
    branch_id, _, _ = world(services)
    with pin_clock(TODAY, hour=3):
        assert tick(services, now=at(3, 59)) == []
        done = tick(services, now=at(4, 2))
        assert [(s.branch_id, s.status) for s in done] == [(branch_id, "done")]
        assert tick(services, now=at(9)) == []  # once a day
        run = session.scalar(select(ReconciliationRun))
        assert (run.trigger, run.scheduled_for) == ("scheduled", TODAY)
        with services.session_factory() as s:
            queued = queue_run(s, Actor("fabio", None, "finance"), branch_id)
            s.commit()
        assert [s.run_id for s in tick(services, now=at(9, 1))] == [queued.id]
        assert session.get(ReconciliationRun, queued.id).status == "done"
