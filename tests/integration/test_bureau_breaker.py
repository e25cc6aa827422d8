"""The circuit breaker per integration against the simulator over a socket (SQLite and PostgreSQL):
a rotated secret stops every call at once and creates no row; refused negativations stay pending and
go once the credentials are fixed; a long outage does not burn the outbox's retries."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select

from app.models import Branch, Negativation, NegativationEvent, NegativationTitle
from app.services.collections.routine import run_branch
from app.services.core.audit import Actor
from app.services.negativations.inclusion import negativate_titles
from app.services.negativations.outbox import retry_outbox
from app.services.settings import bureau_breaker as breaker
from app.services.settings import bureau_integrations as bureau_settings
from tests.clock import pin_clock
from tests.integration.bad_days_support import SECRET, bad_day_services, count_negativations, world
from tests.integration.titles_support import TODAY

pytestmark = pytest.mark.simulator
ROUTINE = Actor.system("rotina")
ADMIN = Actor(name="admin", user_id=None, role="admin")
FINANCE = Actor(name="fabio", user_id=None, role="finance")


def integration_of(session, branch_id: int) -> int:
    return session.get(Branch, branch_id).bureau_integration_id


def live_titles(session) -> dict[int, int]:
    return dict(session.execute(select(NegativationTitle.title_id, func.count()).where(
        NegativationTitle.live.is_(True)).group_by(NegativationTitle.title_id)).all())


def drain(services, rounds: int = 20) -> None:
    for i in range(rounds):
        with services.session_factory() as s:
            if not s.scalar(select(func.count(Negativation.id)).where(Negativation.status == "pending")):
                return
        retry_outbox(services, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1 + i))
    raise AssertionError("the outbox did not drain")


def test_rotated_secret_stops_the_run_with_one_token_request_and_no_row(db, session, bad_sim):
    _, url = db
    sim = bad_sim()
    branch_id, _, ids = world(url, sim, clients=40, titles=(("T", 90),), concurrency=4)
    integration_id = integration_of(session, branch_id)
    services = bad_day_services(url)
    sim.rotate_secret()

    summary = run_branch(services, ROUTINE, branch_id, today=TODAY)

    assert summary.status == "halted" and summary.counts["not_sent"] == 40
    assert sim.token_requests() == 1  # before: 40 token requests and 40 negativations in Erro
    assert count_negativations(session) == 0
    state = breaker.read(session, integration_id)
    assert state.state == "credentials" and summary.message.startswith(state.headline)
    assert state.headline.startswith("Credenciais recusadas pelo bureau em ")
    # While it is open nothing leaves at all: a second run makes no call.
    again = run_branch(services, ROUTINE, branch_id, today=TODAY)
    assert again.status == "halted" and sim.token_requests() == 1 and sim.stats()["requests"].keys() == {"token"}

    # The secret is restored at the bureau; "Testar conexão" closes the breaker and the next run sends all.
    sim.rotate_secret(SECRET)
    report = bureau_settings.test_connection(services, ADMIN, integration_id)
    assert report.ok and not breaker.read(session, integration_id).is_open
    rerun = run_branch(services, ROUTINE, branch_id, today=TODAY)
    assert rerun.status == "done" and rerun.counts["included"] == 40
    assert live_titles(session) == {t: 1 for t in ids.values()}
    assert sim.stats()["negativations_created"] == 40 and sim.stats()["duplicate_titles"] == 0
    services.engine.dispose()


def test_secret_rotated_mid_run_leaves_pending_rows_and_untouched_titles_never_erro(db, session, bad_sim):
    _, url = db
    sim = bad_sim(latency_ms=15)
    branch_id, _, ids = world(url, sim, clients=40, titles=(("T", 90),), concurrency=4)
    integration_id = integration_of(session, branch_id)
    services = bad_day_services(url)
    rotated_after: list[int] = []

    def rotate_when_ten_were_sent():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sim.stats()["negativations_created"] < 10:
            time.sleep(0.01)
        rotated_after.append(sim.token_requests())
        sim.rotate_secret()

    rotator = threading.Thread(target=rotate_when_ten_were_sent)
    rotator.start()
    summary = run_branch(services, ROUTINE, branch_id, today=TODAY)
    rotator.join()

    created = sim.stats()["negativations_created"]
    assert summary.status == "halted" and 10 <= created < 40
    assert sim.token_requests() - rotated_after[0] == 1  # one refused token request, however many threads
    assert count_negativations(session, "error") == 0
    rows = count_negativations(session)
    pending = count_negativations(session, "pending")
    assert rows == created + pending  # rows refused in flight went back to pending
    assert summary.counts["not_sent"] == 40 - rows  # the others: no row at all, titles untouched
    assert set(live_titles(session).values()) == {1}

    # Saving the new credentials closes the breaker; the outbox resends the pending rows with their
    # keys and the next run sends the untouched titles: every title exactly once.
    with services.session_factory() as s:
        row = s.get(Branch, branch_id).integration
        data = bureau_settings.IntegrationInput(name=row.name, environment=row.environment, base_url=row.base_url,
                                                client_id=row.client_id, client_secret="rotated-secret",
                                                auto_include_remove=True, restriction_code_pf="12",
                                                restriction_code_pj="22")
        row.reasons_cache = {"PF": [{"code": "12", "description": "x", "kind": "inclusion"}],
                             "PJ": [{"code": "22", "description": "y", "kind": "inclusion"}]}
        s.flush()
        bureau_settings.save_integration(s, services.box, ADMIN, data, integration_id=integration_id)
        s.commit()
    assert not breaker.read(session, integration_id).is_open
    drain(services)
    rerun = run_branch(services, ROUTINE, branch_id, today=TODAY)
    assert rerun.status == "done"
    session.expire_all()
    assert live_titles(session) == {t: 1 for t in ids.values()}
    assert set(session.scalars(select(Negativation.status))) == {"notice"}
    assert sim.stats()["negativations_created"] == 40 and sim.stats()["duplicate_titles"] == 0
    services.engine.dispose()


def test_refused_manual_negativation_stays_pending_and_goes_after_the_fix(db, session, bad_sim):
    _, url = db
    sim = bad_sim()
    branch_id, parties, ids = world(url, sim, titles=(("T", 90),))
    integration_id = integration_of(session, branch_id)
    services = bad_day_services(url)
    sim.rotate_secret()

    out = negativate_titles(services, FINANCE, parties[0], [ids["T"]], "12", today=TODAY)

    assert out.status == "pending" and not out.ok and "recusou as credenciais" in out.message
    neg = session.scalars(select(Negativation)).one()
    assert (neg.status, neg.attempts, neg.error_kind) == ("pending", 0, "transient")
    assert session.scalars(select(NegativationEvent.kind).where(
        NegativationEvent.negativation_id == neg.id)).all() == ["created", "held"]
    # The outbox leaves it alone while the breaker is open: no call, no attempt burnt.
    before = sim.stats()["requests"]
    assert retry_outbox(services, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=3))["sent"] == 0
    assert sim.stats()["requests"] == before
    session.expire_all()
    assert session.get(Negativation, neg.id).attempts == 0

    sim.rotate_secret(SECRET)
    assert bureau_settings.test_connection(services, ADMIN, integration_id).ok
    drain(services)
    session.expire_all()
    neg = session.get(Negativation, neg.id)
    assert neg.status == "notice" and neg.protocol and neg.attempts == 1
    services.engine.dispose()


def test_a_refusing_bureau_gets_one_token_request_per_minute_across_processes(db, session, bad_sim):
    from multiprocessing import get_context

    from tests.integration.bad_days_child import call_reasons

    _, url = db
    sim = bad_sim()
    branch_id, _, _ = world(url, sim, titles=())
    integration_id = integration_of(session, branch_id)
    sim.rotate_secret()
    # Three processes, five calls each, all at once against the refusing bureau.
    with get_context("spawn").Pool(3) as pool:
        refused = pool.starmap(call_reasons, [(url, integration_id, 5)] * 3)
    assert sum(refused) == 15
    assert sim.token_requests() == 1
    state = breaker.read(session, integration_id)
    assert state.state == "credentials"

    services = bad_day_services(url)
    with pin_clock(TODAY) as traveller:
        traveller.shift(dt.timedelta(seconds=61) + (state.retry_at - dt.datetime.now(dt.UTC)))
        assert breaker.probe_due(services) == {"probed": 1, "closed": 0, "still_open": 1}
        assert breaker.probe_due(services)["probed"] == 0  # the next probe waits for its backoff
        assert sim.token_requests() == 2
        sim.rotate_secret(SECRET)
        traveller.shift(dt.timedelta(minutes=2, seconds=1))
        assert breaker.probe_due(services) == {"probed": 1, "closed": 1, "still_open": 0}
    assert sim.token_requests() == 3 and not breaker.read(session, integration_id).is_open
    services.engine.dispose()


def test_a_long_outage_opens_the_breaker_and_the_outbox_waits_then_resumes(db, session, bad_sim):
    _, url = db
    sim = bad_sim()
    branch_id, parties, ids = world(url, sim, clients=5, titles=(("T", 90),), concurrency=1)
    integration_id = integration_of(session, branch_id)
    services = bad_day_services(url, BUREAU_OUTAGE_AFTER_S=120)
    sim.configure(die_after_requests=0)  # the bureau answers only 503 from now on

    with pin_clock(TODAY) as traveller:
        summary = run_branch(services, ROUTINE, branch_id, today=TODAY)
        assert summary.status == "done" and summary.counts["pending"] == 5  # not yet an outage: 2 minutes
        assert not breaker.read(session, integration_id).is_open
        traveller.shift(dt.timedelta(minutes=3))
        retry_outbox(services)
        state = breaker.read(session, integration_id)
        assert state.state == "outage" and state.headline.startswith("Bureau indisponível desde ")
        calls = sim.stats()["dead_refusals"]
        attempts = sorted(session.scalars(select(Negativation.attempts)).all())
        for _ in range(6):  # an hour of outbox runs while it is open: nothing leaves, nothing is burnt
            traveller.shift(dt.timedelta(minutes=10))
            retry_outbox(services)
        assert sim.stats()["dead_refusals"] == calls
        session.expire_all()
        assert sorted(session.scalars(select(Negativation.attempts)).all()) == attempts
        assert count_negativations(session, "pending") == 5

        sim.configure(die_after_requests=None)  # back
        assert breaker.probe_due(services)["closed"] == 1
        retry_outbox(services)
    session.expire_all()
    assert count_negativations(session, "notice") == 5
    # The first send, the retry that found the outage, the send after it: nothing burnt while it was open.
    assert max(session.scalars(select(Negativation.attempts)).all()) <= 3
    assert sim.stats()["duplicate_titles"] == 0
    services.engine.dispose()
