"""Two requests negativating the same title at the same instant, on PostgreSQL: exactly one wins."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.models import Negativation
from app.services.core.errors import DomainError
from app.services.negativations.inclusion import negativate_titles
from app.services.negativations.outcomes import Outcome

from .titles_support import FINANCE, TODAY, world

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("bypass_check", [False, True], ids=["row-lock", "unique-index"])
def test_two_concurrent_requests_make_exactly_one_negativation(
    services, fake_bureau, monkeypatch, bypass_check
):
    _, party_id, ids = world(services)
    if bypass_check:
        # Both requests pass the eligibility check, so only the partial unique index can stop one.
        from app.services.negativations import eligibility, inclusion

        monkeypatch.setattr(
            inclusion, "evaluate_titles", lambda s, ts, c: {t.id: eligibility.Verdict(t.id) for t in ts}
        )
    barrier = threading.Barrier(2)
    results: list[object] = []
    lock = threading.Lock()

    def request(title_ids):
        barrier.wait()
        try:
            out = negativate_titles(services, FINANCE, party_id, title_ids, "12", today=TODAY)
        except DomainError as exc:
            out = exc
        with lock:
            results.append(out)

    # Overlapping selections: one title in common is enough to make them exclusive.
    threads = [threading.Thread(target=request, args=(sel,)) for sel in (ids, ids[1:])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [r for r in results if isinstance(r, Outcome)]
    losers = [r for r in results if isinstance(r, DomainError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].code == "already_negativated" and losers[0].http_status == 409
    with services.session_factory() as s:
        assert s.scalar(select(func.count(Negativation.id))) == 1
    assert len(fake_bureau.calls_to("negativate")) == 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_showing_a_negativated_title_neither_waits_on_nor_blocks_its_negativation(services, login_as):
    """A payment or a removal holds the negativation's row lock while it works; the title's page and
    the API's title only read it, so they answer at once instead of queueing behind that work."""
    _, party_id, ids = world(services)
    negativate_titles(services, FINANCE, party_id, ids[:1], "12", today=TODAY)
    client = login_as("viewer")
    with services.session_factory() as holder:
        neg = holder.scalars(select(Negativation).with_for_update()).one()
        answers: list[int] = []
        reader = threading.Thread(target=lambda: answers.append(client.get(f"/titulos/{ids[0]}").status_code))
        reader.start()
        reader.join(10)
        assert answers == [200], "the title page waited on the negativation's row lock"
        assert neg.id
        holder.rollback()
