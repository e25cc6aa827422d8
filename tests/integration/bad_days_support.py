"""The bureau's bad days against the simulator over a socket: its controls, its counters, a routine world."""

from __future__ import annotations

import requests
from sqlalchemy import func, select

from app.models import Negativation
from tests.integration.collections_child import child_services
from tests.integration.collections_support import routine_world
from tests.integration.titles_support import TODAY

SECRET = "demo-secret"  # what tests/integration/titles_support.make_branch stores


class Sim:
    def __init__(self, url: str) -> None:
        self.url = url

    def configure(self, **changes) -> dict:
        resp = requests.post(f"{self.url}/_sim/config", json=changes, timeout=5)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def rotate_secret(self, secret: str = "rotated-secret") -> None:
        self.configure(clients={"demo-client": secret})

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_sim/stats", timeout=5).json()

    def token_requests(self) -> int:
        """Every POST /oauth/token, granted or refused."""
        return self.stats()["requests"].get("token", 0)


def bad_day_services(db_url: str, **config):
    """Services with the real client (as a process of its own would build them)."""
    services = child_services(db_url, read_timeout=config.pop("read_timeout", 5.0),
                              max_attempts=config.pop("max_attempts", 1))
    services.config.update(config)
    return services


def world(db_url: str, sim: Sim, **kw):
    """routine_world through a throwaway engine on the test database (closed at once)."""
    setup = child_services(db_url)
    try:
        return routine_world(setup, base_url=sim.url, today=TODAY, **kw)
    finally:
        setup.engine.dispose()


def count_negativations(session, status: str | None = None) -> int:
    stmt = select(func.count(Negativation.id))
    if status is not None:
        stmt = stmt.where(Negativation.status == status)
    return session.scalar(stmt)
