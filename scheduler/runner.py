"""Build and run the scheduler process."""

from __future__ import annotations

import logging
import signal
import time

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
    """Run the jobs until SIGTERM or SIGINT, then let the running jobs finish and return.

    The signal handlers only record the request; the main thread does the shutdown. A handler that
    shut the scheduler down itself raised SchedulerNotRunningError (a traceback) whenever a signal
    came before `start()` or a second one came while stopping, which is what `creditdesk demo` does
    on Ctrl-C (the terminal's SIGINT, then the demo's SIGTERM).
    """
    stop_requested: list[int] = []

    def _request_stop(signum, _frame):
        if not stop_requested:
            log.info("signal %s: stopping scheduler", signum)
        stop_requested.append(signum)

    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    scheduler = build_scheduler(services, blocking=False)
    for j in scheduler.get_jobs():
        log.info("job %s (%s)", j.id, j.trigger)
    if stop_requested:
        return
    scheduler.start()
    try:
        # A plain sleep loop, not Event.wait(): a handler that set an Event could deadlock on the
        # Event's own lock if the signal arrived while the main thread held it.
        while not stop_requested:
            time.sleep(0.5)
    finally:
        scheduler.shutdown(wait=True)  # running jobs end their current item; all are re-run safe
        log.info("scheduler stopped")
