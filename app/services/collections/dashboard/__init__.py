"""Painel de cobrança: the collections dashboard's figures, each one set-based SQL.

Nothing here loops over titles, payments or negativations in Python: every figure is one
aggregate query (GROUP BY / CASE / SUM) that the database answers from its indexes, so the panel
costs the same few queries with 1,000 titles or 1,000,000. Python only fills the fixed axes (the
five aging buckets, the six statuses, the 30 days) and turns sums into percentages. The one list
of rows (removals) is bounded by `removal_rows_limit`, alerts first.

Every function takes a `branch_id` (None = all branches) and a pinned `today` (business date,
America/Sao_Paulo; defaults to `clock.today_br()`), so the figures are reproducible in tests.
One module per figure: `aging`, `statuses`, `removals` (legal deadlines), `recovery`, `runs`;
`sql` holds what they share (Brasília dates of stored instants, money, percentages).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.services.collections.dashboard import aging, recovery, removals, runs, statuses
from app.services.core.clock import today_br


@dataclass(frozen=True)
class Dashboard:
    today: dt.date
    branch_id: int | None
    aging: aging.Aging
    negativations: list[statuses.StatusTotal]
    removals: removals.Removals
    recovery: recovery.Recovery
    runs: runs.Runs


def dashboard(session: Session, *, branch_id: int | None = None, today: dt.date | None = None) -> Dashboard:
    """Every figure of the panel for one branch (None = all), as of `today`."""
    today = today or today_br()
    return Dashboard(
        today=today,
        branch_id=branch_id,
        aging=aging.overdue_aging(session, branch_id=branch_id, today=today),
        negativations=statuses.negativations_by_status(session, branch_id=branch_id),
        removals=removals.removals(session, branch_id=branch_id, today=today),
        recovery=recovery.recovery(session, branch_id=branch_id, today=today),
        runs=runs.runs_per_day(session, branch_id=branch_id, today=today),
    )
