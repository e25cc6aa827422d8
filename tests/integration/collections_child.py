"""Runs the collections routine in a child process (spawned by the reliability tests)."""

from __future__ import annotations

import datetime as dt

KEY = "x3Yb0Yl1E6k3yqI3jQyq7pVDZ2Qn6Rk3GfV0yq2YF6o="


def child_services(db_url: str, read_timeout: float = 5.0, max_attempts: int = 2):
    from app.bootstrap import bootstrap, real_bureau_factory

    config = {"DATABASE_URL": db_url, "ENCRYPTION_KEY": KEY, "SECRET_KEY": "k", "BUREAU_READ_TIMEOUT": read_timeout,
              "BUREAU_CONNECT_TIMEOUT": 2.0, "BUREAU_MAX_ATTEMPTS": max_attempts}
    services = bootstrap(config)
    services.bureau_factory = real_bureau_factory(config, services.engine, services.box)
    return services


def run_routine(db_url: str, branch_id: int, today_iso: str, bypass_lock: bool = False) -> str:
    """Run the routine for one branch; with bypass_lock the branch lease is not taken at all, to show
    that the outbox and the unique live-title index alone prevent a double send."""
    from app.services.collections import routine as collections
    from app.services.collections.run_records import RunSpec
    from app.services.core.audit import Actor

    services = child_services(db_url)
    today = dt.date.fromisoformat(today_iso)
    actor = Actor.system("rotina")
    if bypass_lock:
        from app.services.collections.policy import policy_for

        with services.session_factory() as s:
            days = policy_for(s, branch_id).days_to_execute
        spec = RunSpec(branch_id, "b", days, today, "manual", None, False)
        summary = collections._execute(services, actor, spec, None)
    else:
        summary = collections.run_branch(services, actor, branch_id, today=today)
    services.engine.dispose()
    return summary.status
