"""Panel figure: collection runs per day over the last 30 days, with what they included and removed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CollectionRun
from app.services.collections.dashboard.sql import RECENT_DAYS, br_date, start_of_br_day
from app.services.core.clock import today_br

RUN_STATUS_LABELS = {"done": "Concluídas", "failed": "Com falha", "skipped": "Ignoradas", "running": "Em execução"}


@dataclass(frozen=True)
class RunDay:
    day: dt.date
    by_status: dict[str, int]  # done / failed / skipped / running -> runs started that day
    included: int  # negativations included (counts["included"])
    removed: int  # negativations removed (counts["removed"])

    @property
    def runs(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class Runs:
    since: dt.date
    days: list[RunDay]  # one per day, oldest first, days without runs included

    @property
    def total_runs(self) -> int:
        return sum(d.runs for d in self.days)

    @property
    def total_included(self) -> int:
        return sum(d.included for d in self.days)

    @property
    def total_removed(self) -> int:
        return sum(d.removed for d in self.days)


def runs_per_day(session: Session, *, branch_id: int | None = None, today: dt.date | None = None) -> Runs:
    """Collection runs started in the last 30 days (Brasília days), dry runs ("Simular") left
    out: per day, the number of runs by status and the totals of `counts["included"]` and
    `counts["removed"]` (negativations included and removed)."""
    today = today or today_br()
    since = today - dt.timedelta(days=RECENT_DAYS - 1)
    runs = select(
        br_date(session, CollectionRun.started_at).label("day"),
        CollectionRun.status,
        CollectionRun.counts["included"].as_integer().label("included"),
        CollectionRun.counts["removed"].as_integer().label("removed"),
    ).where(
        CollectionRun.dry_run.is_(False),
        CollectionRun.started_at >= start_of_br_day(since),
        CollectionRun.started_at < start_of_br_day(today + dt.timedelta(days=1)),
    )
    if branch_id is not None:
        runs = runs.where(CollectionRun.branch_id == branch_id)
    sub = runs.subquery()
    stmt = select(
        sub.c.day, sub.c.status, func.count(), func.sum(sub.c.included), func.sum(sub.c.removed)
    ).group_by(sub.c.day, sub.c.status)
    acc: dict[dt.date, dict] = {}
    for run_day, status, count, included, removed in session.execute(stmt):
        if isinstance(run_day, str):  # defensive: a driver that hands dates back as text
            run_day = dt.date.fromisoformat(run_day)
        slot = acc.setdefault(run_day, {"by_status": {}, "included": 0, "removed": 0})
        slot["by_status"][status] = slot["by_status"].get(status, 0) + count
        slot["included"] += int(included or 0)
        slot["removed"] += int(removed or 0)
    days = []
    for offset in range(RECENT_DAYS):
        current = since + dt.timedelta(days=offset)
        slot = acc.get(current, {"by_status": {}, "included": 0, "removed": 0})
        by_status = {status: slot["by_status"].get(status, 0) for status in RUN_STATUS_LABELS}
        for status, count in slot["by_status"].items():  # a status the routine may add later
            by_status.setdefault(status, count)
        days.append(RunDay(current, by_status, slot["included"], slot["removed"]))
    return Runs(since, days)
