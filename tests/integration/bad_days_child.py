"""Work done in child processes by the bad-day tests (spawned: a process of its own, like a web worker)."""

from __future__ import annotations


def call_reasons(db_url: str, integration_id: int, calls: int) -> int:
    """`calls` guarded bureau calls of the integration; returns how many the bureau or breaker refused."""
    from app.models import BureauIntegration
    from integrations.bureau import BureauError
    from tests.integration.collections_child import child_services

    services = child_services(db_url, max_attempts=1)
    refused = 0
    try:
        for _ in range(calls):
            with services.session_factory() as s:
                bureau = services.bureau_for(s.get(BureauIntegration, integration_id))
            try:
                bureau.restriction_reasons("PF")
            except BureauError:
                refused += 1
    finally:
        services.engine.dispose()
    return refused
