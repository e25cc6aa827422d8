"""The routine's chunks: every group of a chunk is created in one SAVEPOINT and one flush; a collision
with rule 7 (one live negativation per title)'s unique index falls back to one SAVEPOINT per group, so
only the colliding group is refused. And the run's cached view of the bureau breaker."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.models import Branch, Negativation, NegativationTitle
from app.services.core.audit import Actor
from app.services.core.clock import now_utc
from app.services.core.errors import Conflict, ValidationError
from app.services.negativations.inclusion import negativate_groups
from app.services.negativations.outcomes import Outcome
from app.services.settings import bureau_breaker as breaker
from tests.clock import pin_clock

from .titles_support import FINANCE, TODAY, world


@pytest.fixture(autouse=True)
def _today():
    with pin_clock(TODAY):
        yield


def live_titles(services) -> list[int]:
    with services.session_factory() as s:
        return sorted(s.scalars(select(NegativationTitle.title_id).where(NegativationTitle.live.is_(True))))


def test_two_groups_naming_one_title_in_one_chunk_send_it_once(services, fake_bureau):
    _, party_id, ids = world(services)
    # Both groups pass the check made for the whole chunk; the batch's flush hits the unique index.
    results = negativate_groups(services, FINANCE, [(party_id, ids, "12"), (party_id, ids[1:], "12")],
                                today=TODAY)
    assert isinstance(results[0], Outcome) and results[0].ok, results
    assert isinstance(results[1], Conflict) and results[1].code == "already_negativated"
    with services.session_factory() as s:
        assert s.scalar(select(func.count(Negativation.id))) == 1
    assert live_titles(services) == sorted(ids)
    assert len(fake_bureau.calls_to("negativate")) == 1


def test_a_refused_group_writes_nothing_and_the_rest_of_its_chunk_is_sent(services, fake_bureau):
    _, party_id, ids = world(services)
    results = negativate_groups(services, FINANCE, [(party_id, [ids[0]], ""), (party_id, [ids[1]], "12")],
                                today=TODAY)
    assert isinstance(results[0], ValidationError) and "restrição" in results[0].message
    assert isinstance(results[1], Outcome) and results[1].status == "notice"
    assert live_titles(services) == [ids[1]]
    assert len(fake_bureau.calls_to("negativate")) == 1


def test_the_runs_breaker_view_is_read_once_per_max_age_and_again_after_forget(services):
    branch_id, _, _ = world(services)
    with services.session_factory() as s:
        integration_id = s.get(Branch, branch_id).bureau_integration_id
    now = [100.0]
    cache = breaker.StateCache(services.session_factory, max_age_s=1.0, clock=lambda: now[0])
    assert not cache.read(integration_id).is_open
    with transaction(services.session_factory) as s:  # another process opens it
        assert breaker._open_in(s, integration_id, breaker.CREDENTIALS, "credenciais recusadas", now_utc())
    now[0] += 0.5
    assert not cache.read(integration_id).is_open  # within max_age: the state read half a second ago
    now[0] += 0.5
    assert cache.read(integration_id).is_open
    with transaction(services.session_factory) as s:
        assert breaker.close_in(s, integration_id, Actor.system("teste"), "teste")
    assert cache.read(integration_id).is_open
    cache.forget(integration_id)  # what this process learns is seen at once
    assert not cache.read(integration_id).is_open
