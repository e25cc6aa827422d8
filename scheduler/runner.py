"""Build and run the scheduler process."""

from __future__ import annotations

import logging
import signal

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from app.services.core.clock import TIMEZONE

from .registry import JOBS, run_job

log = logging.getLogger("creditdesk.scheduler")


def load_jobs() -> None:
    """Import the modules whose @job decorators fill the registry."""
    from . import jobs  # noqa: F401


def build_scheduler(services, *, blocking: bool = True):
    load_jobs()
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        timezone=TIMEZONE,
        # coalesce: after downtime run once, not once per missed tick; max_instances=1: never overlap.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
    )
    for spec in JOBS.values():
        scheduler.add_job(run_job, spec.trigger, id=spec.id, name=spec.description or spec.id,
                          args=(spec, services), replace_existing=True, **spec.trigger_args)
    services.extras["scheduler"] = scheduler
    return scheduler


def run_forever(services) -> None:
    scheduler = build_scheduler(services, blocking=True)

    def _stop(signum, _frame):
        log.info("signal %s: stopping scheduler", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    for j in scheduler.get_jobs():
        log.info("job %s (%s)", j.id, j.trigger)
    scheduler.start()
