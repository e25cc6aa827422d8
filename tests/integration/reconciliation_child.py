"""Runs a reconciliation in a child process (spawned by the kill-and-resume test)."""

from __future__ import annotations


def run_reconciliation(db_url: str, branch_id: int) -> str:
    from app.services.core.audit import Actor
    from app.services.reconciliation.runs import run_branch
    from tests.integration.collections_child import child_services

    services = child_services(db_url)
    summary = run_branch(services, Actor.system("rotina"), branch_id, trigger="scheduled")
    services.engine.dispose()
    return summary.status
