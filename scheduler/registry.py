"""The job registry: each job has an explicit id, a trigger, and a function taking Services.

Jobs are re-run safe (per-item state in the database) and each run holds a database lease named
after the job, so a second scheduler started by mistake runs nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("creditdesk.scheduler")


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[Any], Any]  # func(services) -> summary (any printable)
    trigger: str  # "interval" | "cron"
    trigger_args: dict[str, Any] = field(default_factory=dict)
    lease: dt.timedelta = dt.timedelta(minutes=10)
    description: str = ""


JOBS: dict[str, JobSpec] = {}


def job(id: str, trigger: str, *, lease: dt.timedelta = dt.timedelta(minutes=10), description: str = "",
        **trigger_args: Any):
    """Decorator registering a job function."""

    def decorator(func):
        JOBS[id] = JobSpec(id=id, func=func, trigger=trigger, trigger_args=trigger_args, lease=lease,
                           description=description)
        return func

    return decorator


def run_job(spec: JobSpec, services) -> Any:
    """Run one job under its lease; an error is logged, never kills the scheduler."""
    from app.services.core.locks import LockBusy, held

    try:
        with held(services.session_factory, f"job:{spec.id}", spec.lease):
            result = spec.func(services)
            log.info("job %s done: %s", spec.id, result)
            return result
    except LockBusy:
        log.info("job %s skipped: another process holds its lease", spec.id)
    except Exception:
        log.exception("job %s failed", spec.id)
    return None
