"""Exactly once under faults, concurrency and a kill: every eligible title negativated once, never twice."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import time

import pytest
import requests
from sqlalchemy import func, select, update

from app.models import CollectionRun, JobLock, Negativation, NegativationTitle
from app.services.collections.routine import run_branch
from app.services.core.audit import Actor
from app.services.negativations.outbox import retry_outbox
from integrations.simulator import SimulatorConfig
from integrations.simulator.server import start_in_thread
from tests.integration.collections_child import child_services, run_routine
from tests.integration.collections_support import routine_world
from tests.integration.titles_support import TODAY

pytestmark = pytest.mark.simulator
SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def sim():
    started = []

    def _start(**kw):
        kw.setdefault("request_log", False)
        url, stop = start_in_thread(SimulatorConfig(**kw))
        started.append(stop)
        return url

    yield _start
    for stop in started:
        stop()


def world(url: str, **kw):
    """routine_world through a throwaway engine on the test database (closed at once)."""
    setup = child_services(url)
    try:
        return routine_world(setup, today=TODAY, **kw)
    finally:
        setup.engine.dispose()


def stats(url: str) -> dict:
    return requests.get(f"{url}/_sim/stats", timeout=5).json()


def assert_each_title_once(session, title_ids, sim_url, expected_negativations):
    per_title = dict(session.execute(
        select(NegativationTitle.title_id, func.count()).where(NegativationTitle.live.is_(True))
        .group_by(NegativationTitle.title_id)).all())
    assert per_title == {t: 1 for t in title_ids}, "every eligible title exactly once"
    statuses = session.scalars(select(Negativation.status)).all()
    assert statuses and set(statuses) <= {"notice", "active"}, statuses
    s = stats(sim_url)
    assert s["duplicate_titles"] == 0
    assert s["negativations_created"] == expected_negativations


def drain_outbox(services, rounds: int = 40) -> None:
    """Run the outbox retry job as the scheduler would, each time as if its turn had come."""
    for i in range(rounds):
        with services.session_factory() as s:
            pending = s.scalar(select(func.count(Negativation.id)).where(Negativation.status == "pending"))
        if not pending:
            return
        retry_outbox(services, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2 + i))
    raise AssertionError("outbox did not drain")


def test_twenty_percent_faults_end_with_each_title_negativated_once(db, session, sim):
    _, url = db
    sim_url = sim(fault_rate=0.2, timeout_sleep_s=1.0, seed=7)
    branch_id, parties, ids = world(url, base_url=sim_url, clients=15, titles=(("T", 90),), concurrency=4)
    services = child_services(url, read_timeout=0.5, max_attempts=2)
    summary = run_branch(services, Actor.system("rotina"), branch_id, today=TODAY)
    assert summary.status == "done"
    faults = stats(sim_url)["faults"]
    assert sum(faults.values()) > 0, "the simulator injected faults"
    drain_outbox(services)
    session.expire_all()
    assert_each_title_once(session, ids.values(), sim_url, expected_negativations=15)
    services.engine.dispose()


@pytest.mark.parametrize("bypass_lock", [False, True], ids=["with-lease", "without-lease"])
def test_two_processes_at_once_negativate_each_title_once(db, session, sim, bypass_lock):
    _, url = db
    sim_url = sim(latency_ms=20)
    branch_id, parties, ids = world(url, base_url=sim_url, clients=20, titles=(("T", 90), ("U", 120)),
                                    concurrency=4)
    with SPAWN.Pool(2) as pool:
        results = pool.starmap(run_routine, [(url, branch_id, TODAY.isoformat(), bypass_lock)] * 2)
    assert "done" in results
    session.expire_all()
    assert_each_title_once(session, ids.values(), sim_url, expected_negativations=20)


def test_kill_in_the_middle_then_rerun_sends_nothing_twice_and_forgets_nothing(db, session, sim):
    _, url = db
    sim_url = sim(latency_ms=250)
    branch_id, parties, ids = world(url, base_url=sim_url, clients=12, titles=(("T", 90),), concurrency=2)
    child = SPAWN.Process(target=run_routine, args=(url, branch_id, TODAY.isoformat()))
    child.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        session.expire_all()
        if session.scalar(select(func.count(Negativation.id))) >= 3:
            break
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    session.expire_all()
    done_before = session.scalar(select(func.count(Negativation.id)))
    assert 3 <= done_before < 12, "killed mid-way"
    # Time passes: the dead process's lease expires (it no longer renews it).
    session.execute(update(JobLock).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    session.commit()
    services = child_services(url)
    drain_outbox(services)  # rows committed as pending before the kill are resent with their key
    rerun = run_branch(services, Actor.system("rotina"), branch_id, today=TODAY)
    assert rerun.status == "done"
    drain_outbox(services)
    session.expire_all()
    assert_each_title_once(session, ids.values(), sim_url, expected_negativations=12)
    statuses = session.scalars(select(CollectionRun.status).order_by(CollectionRun.id)).all()
    assert statuses == ["interrupted", "done"]
    services.engine.dispose()
