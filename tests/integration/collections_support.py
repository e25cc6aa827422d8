"""A branch ready for the collections routine: integration with automatic mode and codes, policy on."""

from __future__ import annotations

import datetime as dt

from app.models import CollectionPolicy
from tests.integration.titles_support import CPF_OK, TODAY, make_branch, make_client, make_title

__all__ = ["TODAY", "routine_world", "valid_cpf"]


def valid_cpf(n: int) -> str:
    """The n-th synthetic valid CPF (check digits computed), never all-equal digits."""
    base = f"{(n * 7919 + 100000001) % 1_000_000_000:09d}"
    digits = [int(c) for c in base]
    for weight_start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(weight_start, 1, -1), strict=False))
        digits.append((total * 10 % 11) % 10)
    return "".join(map(str, digits))


def routine_world(services, *, titles=(("T-59", 59), ("T-60", 60), ("T-120", 120)), days=60, grouping="client",
                  enabled=True, base_url="http://127.0.0.1:9", concurrency=4, rate=None, clients=1,
                  document=CPF_OK, today=TODAY):
    """Committed: branch (SP) + integration (auto on, PF 12 / PJ 22) + policy + clients with titles.

    Returns (branch_id, [party ids], {title number: title id}).
    """
    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        integ = branch.integration
        integ.base_url = base_url
        integ.auto_include_remove = True
        integ.restriction_code_pf, integ.restriction_code_pj = "12", "22"
        s.add(CollectionPolicy(branch_id=branch.id, enabled=enabled, handle_by_title=True, days_to_execute=days,
                               grouping=grouping, run_time="06:00", max_concurrency=concurrency,
                               rate_limit_per_s=rate))
        parties, ids = [], {}
        for c in range(clients):
            doc = document if c == 0 else valid_cpf(c)
            party = make_client(s, branch, document=doc, name=f"Cliente {c}")
            parties.append(party.id)
            for number, overdue in titles:
                num = number if clients == 1 else f"{number}-{c}"
                ids[num] = make_title(s, party, number=num, days_overdue=overdue, today=today).id
        s.commit()
        return branch.id, parties, ids


def shift(today: dt.date, days: int) -> dt.date:
    return today + dt.timedelta(days=days)
