"""When the daily collections run is due, computed from the database on every scheduler tick.

The schedule lives in the branch's collection policy (run_time, America/Sao_Paulo), not in
APScheduler's job store: a time changed in the UI applies at the next minute without a restart,
and a run missed while the scheduler was down is caught up when it comes back, once (a run covers
every eligible title, so several missed days need one run, not several).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch, CollectionPolicy, CollectionRun
from app.services.core.clock import BR_TZ, now_utc
from app.services.settings.bureau_breaker import open_breakers

CATCH_UP_AFTER = dt.timedelta(minutes=5)  # later than this past run_time: a catch-up, not on time
# "busy", "interrupted" and "halted" (the bureau's breaker stopped it) leave the day open.
FINAL_STATUSES = ("done", "skipped", "running", "failed")


def run_time_today(policy: CollectionPolicy, today: dt.date) -> dt.datetime:
    hour, minute = (int(x) for x in policy.run_time.split(":"))
    return dt.datetime.combine(today, dt.time(hour, minute), BR_TZ)


def due_runs(session: Session, now: dt.datetime | None = None) -> list[tuple[int, dt.date, str]]:
    """(branch_id, business date, trigger) for each branch whose run for today is due and not done."""
    now = (now or now_utc()).astimezone(BR_TZ)
    today = now.date()
    rows = session.execute(
        select(CollectionPolicy, Branch.bureau_integration_id).join(Branch, Branch.id == CollectionPolicy.branch_id)
        .where(CollectionPolicy.enabled.is_(True), Branch.active.is_(True))
    ).all()
    # While an integration's breaker is open the day's run waits (it would send nothing); it runs
    # as a catch-up once the breaker closes.
    blocked = {b.integration_id for b in open_breakers(session)}
    out = []
    for policy, integration_id in rows:
        if integration_id in blocked:
            continue
        at = run_time_today(policy, today)
        if now < at:
            continue
        already = session.scalar(
            select(CollectionRun.id).where(
                CollectionRun.branch_id == policy.branch_id, CollectionRun.dry_run.is_(False),
                CollectionRun.scheduled_for == today, CollectionRun.status.in_(FINAL_STATUSES)).limit(1))
        if already is None:
            out.append((policy.branch_id, today, "scheduled" if now - at <= CATCH_UP_AFTER else "catch_up"))
    return out


def next_run_at(policy: CollectionPolicy, now: dt.datetime | None = None) -> dt.datetime:
    now = (now or now_utc()).astimezone(BR_TZ)
    at = run_time_today(policy, now.date())
    return at if at > now else run_time_today(policy, now.date() + dt.timedelta(days=1))


def tick(services, now: dt.datetime | None = None) -> list:
    """Run every due branch (called every minute by the scheduler)."""
    from app.services.collections.liveness import reap
    from app.services.collections.routine import run_branch, run_queued
    from app.services.core.audit import Actor

    reap(services)  # runs whose process is gone: "interrompida", their day open again
    done = run_queued(services)
    with services.session_factory() as s:
        due = due_runs(s, now)
    return done + [run_branch(services, Actor.system("rotina"), branch_id, trigger=trigger, today=day,
                       scheduled_for=day) for branch_id, day, trigger in due]
