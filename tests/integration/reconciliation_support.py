"""A branch negativated against the simulator over a socket, and the simulator's /_sim controls."""

from __future__ import annotations

import datetime as dt

import requests

from app.bootstrap import bootstrap, real_bureau_factory
from app.db import transaction
from app.models import CollectionPolicy, Negativation
from app.services.core.clock import today_br
from app.services.negativations import records as rec
from app.services.negativations.inclusion import negativate_titles
from app.services.negativations.removal import send_removal
from tests.integration.titles_support import FINANCE, make_branch, make_client, make_title

KINDS = ["removed_at_bureau", "live_at_bureau", "unknown_protocol", "settled_but_live", "notice_over",
         "amount_differs"]


def sim_services(config: dict, engine):
    config = dict(config, BUREAU_READ_TIMEOUT=5, BUREAU_MAX_ATTEMPTS=2)
    services = bootstrap(config, engine=engine)
    services.bureau_factory = real_bureau_factory(config, engine, services.box)
    return services


def negativated_world(services, sim_url: str, count: int, *, rate: int | None = None,
                      today: dt.date | None = None) -> tuple[int, int, list[tuple[int, int, str]]]:
    """(branch id, party id, [(title id, negativation id, protocol)]), one negativation per title."""
    today = today or today_br()
    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        branch.integration.base_url = sim_url
        if rate:
            s.add(CollectionPolicy(branch_id=branch.id, enabled=False, rate_limit_per_s=rate))
        party = make_client(s, branch)
        title_ids = [make_title(s, party, number=f"R-{i}", days_overdue=90, today=today).id for i in range(count)]
        s.commit()
        branch_id, party_id = branch.id, party.id
    out = []
    for title_id in title_ids:
        outcome = negativate_titles(services, FINANCE, party_id, [title_id], "12", today=today)
        with services.session_factory() as s:
            out.append((title_id, outcome.negativation_id, s.get(Negativation, outcome.negativation_id).protocol))
    return branch_id, party_id, out


def control(sim_url: str, protocol: str, action: str, body: dict | None = None) -> dict:
    resp = requests.post(f"{sim_url}/_sim/negativations/{protocol}/{action}", json=body or {}, timeout=5)
    resp.raise_for_status()
    return resp.json()


def stats(sim_url: str) -> dict:
    return requests.get(f"{sim_url}/_sim/stats", timeout=5).json()


def remove_here(services, negativation_id: int, reason: str = "manual") -> None:
    """Removal by hand through the outbox (request, then send)."""
    with transaction(services.session_factory) as s:
        rec.request_removal(s, rec.lock_negativation(s, negativation_id), reason, FINANCE)
    send_removal(services, negativation_id, force=True)
