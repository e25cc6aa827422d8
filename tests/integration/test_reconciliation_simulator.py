"""Reconciliation against the simulator over a real socket: every divergence kind made with the
/_sim controls, closed by the next check once fixed; the pace under the branch's rate limit; a run
killed halfway and resumed, checking each entry once."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import time
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from app.models import JobLock, Negativation, Title
from app.models.reconciliation import Divergence, ReconciliationRun
from app.services.core.audit import Actor
from app.services.reconciliation import actions
from app.services.reconciliation.runs import run_branch
from app.services.titles import payments
from integrations.simulator import SimulatorConfig
from integrations.simulator.server import start_in_thread
from tests.clock import pin_clock
from tests.integration.collections_child import child_services
from tests.integration.reconciliation_child import run_reconciliation
from tests.integration.reconciliation_support import (
    KINDS,
    control,
    negativated_world,
    remove_here,
    sim_services,
    stats,
)
from tests.integration.titles_support import FINANCE, TODAY

pytestmark = pytest.mark.simulator
SPAWN = multiprocessing.get_context("spawn")
SYSTEM = Actor.system("rotina")


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


def open_divergences(session) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for d in session.scalars(select(Divergence).where(Divergence.status == "open").order_by(Divergence.id)):
        out.setdefault(d.negativation_id, []).append(d.kind)
    return out


def test_each_kind_is_found_with_its_evidence_and_closes_at_the_next_check_once_fixed(db, test_config, session,
                                                                                       sim):
    engine, _ = db
    with pin_clock(TODAY):
        url = sim()
        services = sim_services(test_config, engine)
        branch_id, _, rows = negativated_world(services, url, len(KINDS) + 1, today=TODAY)
        negs = {kind: (neg_id, protocol, title_id) for kind, (title_id, neg_id, protocol) in zip(KINDS, rows,
                                                                                                   strict=False)}
        agreeing = rows[-1][1]
        control(url, negs["removed_at_bureau"][1], "remove")
        control(url, negs["unknown_protocol"][1], "forget")
        control(url, negs["notice_over"][1], "activate")
        control(url, negs["amount_differs"][1], "amount", {"total_amount": "119.90"})
        remove_here(services, negs["live_at_bureau"][0])
        control(url, negs["live_at_bureau"][1], "activate")
        with services.session_factory() as s:
            result = payments.register_payment(s, FINANCE, negs["settled_but_live"][2], "100.00", TODAY, today=TODAY)
            s.commit()
        remove_here_ids = result.removal_ids
        assert remove_here_ids == [negs["settled_but_live"][0]]
        from app.services.negativations.removal import send_removal

        assert send_removal(services, remove_here_ids[0], force=True).status == "removed"
        control(url, negs["settled_but_live"][1], "activate")

        first = run_branch(services, SYSTEM, branch_id)
        assert (first.status, first.total, first.checked) == ("done", 7, 7)
        assert first.counts == {kind: 1 for kind in KINDS}
        assert open_divergences(session) == {negs[kind][0]: [kind] for kind in KINDS}
        assert agreeing not in open_divergences(session)
        amount = session.scalar(select(Divergence).where(Divergence.kind == "amount_differs"))
        assert amount.evidence["local"]["total_amount"] == "100.00"
        assert amount.evidence["bureau"]["total_amount"] == "119.90"
        unknown = session.scalar(select(Divergence).where(Divergence.kind == "unknown_protocol"))
        assert unknown.evidence["bureau"]["found"] is False
        settled = session.scalar(select(Divergence).where(Divergence.kind == "settled_but_live"))
        assert settled.evidence["local"]["titles"][0]["status"] == "paid"
        assert settled.evidence["bureau"]["status"] == "active"

        # A second run sees the same: nothing opened twice (one open divergence per entry and kind).
        second = run_branch(services, SYSTEM, branch_id)
        assert (second.counts, session.scalar(select(ReconciliationRun.opened).where(
            ReconciliationRun.id == second.run_id))) == ({kind: 1 for kind in KINDS}, 0)

        div = {d.kind: d.id for d in session.scalars(select(Divergence).where(Divergence.status == "open"))}
        assert actions.resend_removal(services, FINANCE, div["settled_but_live"]).status == "removed"
        assert actions.resend_removal(services, FINANCE, div["live_at_bureau"]).status == "removed"
        assert actions.mark_removed(services, FINANCE, div["removed_at_bureau"], "manual").status == "removed"
        assert actions.mark_removed(services, FINANCE, div["unknown_protocol"], "error_correction").ok
        assert actions.update_status(services, FINANCE, div["notice_over"]).status == "active"
        session.expire_all()
        assert len(open_divergences(session)) == 6, "actions alone close nothing: the next check does"

        third = run_branch(services, SYSTEM, branch_id)
        assert third.counts == {"amount_differs": 1}
        assert open_divergences(session) == {negs["amount_differs"][0]: ["amount_differs"]}
        closed = session.scalars(select(Divergence.close_reason).where(Divergence.status == "closed")).all()
        assert len(closed) == 5 and all("o bureau concorda" in r for r in closed)
        control(url, negs["amount_differs"][1], "amount", {"total_amount": "100.00"})
        check = actions.recheck_divergence(services, FINANCE, div["amount_differs"])
        assert (check.kinds, check.closed) == ([], 1)
        session.expire_all()
        assert open_divergences(session) == {}
        assert session.get(Negativation, negs["removed_at_bureau"][0]).status == "removed"
        assert session.get(Title, negs["settled_but_live"][2]).status == "paid"


def test_calls_are_paced_under_the_branch_rate_limit(db, test_config, session, sim):
    engine, _ = db
    url = sim()
    services = sim_services(test_config, engine)
    branch_id, _, rows = negativated_world(services, url, 16, rate=10)
    import requests

    requests.post(f"{url}/_sim/config", json={"rate_limit_per_s": 10}, timeout=5).raise_for_status()
    before = stats(url)
    started = time.monotonic()
    summary = run_branch(services, SYSTEM, branch_id)
    elapsed = time.monotonic() - started
    after = stats(url)
    assert (summary.status, summary.checked) == ("done", 16)
    run = session.get(ReconciliationRun, summary.run_id)
    assert run.rate_per_s == pytest.approx(8.0)  # 80 % of the branch's 10/s
    assert after["status_queries"] - before["status_queries"] == 16
    assert after.get("rate_limited", 0) == before.get("rate_limited", 0) == 0, "never provoked a 429"
    assert elapsed >= (16 - 1) / 8.0 * 0.95, f"16 calls at 8/s take at least ~1.9 s, took {elapsed:.2f}"


def test_a_run_killed_halfway_resumes_after_its_cursor_and_checks_each_entry_once(db, session, sim):
    _, db_url = db
    url = sim(latency_ms=150)
    setup = child_services(db_url)
    branch_id, _, rows = negativated_world(setup, url, 20)
    for _, _, protocol in (rows[3], rows[15]):
        control(url, protocol, "forget")
    before = stats(url)["requests"].get("negativation_get", 0)
    child = SPAWN.Process(target=run_reconciliation, args=(db_url, branch_id))
    child.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        session.expire_all()
        run = session.scalar(select(ReconciliationRun))
        if run is not None and run.checked >= 6:
            break
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    session.expire_all()
    run = session.scalar(select(ReconciliationRun))
    assert run.status == "running" and 6 <= run.checked < 20, "killed halfway"
    # The dead process no longer renews its lease: it expires.
    session.execute(update(JobLock).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    session.commit()
    summary = run_branch(setup, SYSTEM, branch_id, trigger="scheduled")
    session.expire_all()
    run = session.get(ReconciliationRun, summary.run_id)
    assert summary.run_id == run.id and session.scalar(select(ReconciliationRun.id).order_by(
        ReconciliationRun.id.desc())) == run.id, "the same run carried on, no second run"
    assert (run.status, run.checked, run.total, run.resumed, run.errors) == ("done", 20, 20, 1, 0)
    assert run.counts == {"unknown_protocol": 2}
    assert sorted(open_divergences(session)) == sorted([rows[3][1], rows[15][1]])
    queries = stats(url)["requests"].get("negativation_get", 0) - before
    assert 20 <= queries <= 21, "each entry read once (plus at most the one in flight at the kill)"
    setup.engine.dispose()


def test_amount_of_the_simulator_status_answer(db, test_config, sim):
    engine, _ = db
    url = sim()
    services = sim_services(test_config, engine)
    _, _, rows = negativated_world(services, url, 1)
    with services.session_factory() as s:
        neg = s.get(Negativation, rows[0][1])
        answer = services.bureau_for(neg.branch.integration).negativation_status(neg.protocol)
    assert answer.total_amount == Decimal("100.00")
