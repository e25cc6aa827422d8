"""Killed runs never block their branch, and run-collections exits with a code scripts can use."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import time

import pytest
from sqlalchemy import func, select, update

from app.db import transaction
from app.models import CollectionRun, JobLock, Negativation, NegativationTitle
from app.services.collections.liveness import RUN_LEASE_TTL, lease_name, reap
from app.services.collections.routine import run_queued
from app.services.collections.run_records import queue_run
from app.services.core.audit import Actor
from app.services.core.errors import Conflict
from app.services.negativations.outbox import retry_outbox
from integrations.bureau import AuthenticationError, BureauRejected
from tests.integration.bad_days_support import bad_day_services, world
from tests.integration.collections_child import run_routine
from tests.integration.collections_support import routine_world
from tests.integration.titles_support import TODAY

SPAWN = multiprocessing.get_context("spawn")
FINANCE = Actor(name="fabio", user_id=None, role="finance")


@pytest.mark.simulator
def test_a_killed_run_is_interrupted_at_once_and_executar_agora_works(db, session, bad_sim):
    _, url = db
    sim = bad_sim(latency_ms=250)
    branch_id, _, ids = world(url, sim, clients=12, titles=(("T", 90),), concurrency=2)
    child = SPAWN.Process(target=run_routine, args=(url, branch_id, TODAY.isoformat()))
    child.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and session.scalar(select(func.count(Negativation.id))) < 3:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    dead = session.scalars(select(CollectionRun)).one()
    assert dead.status == "running"

    # No waiting for the lease to expire: its holder was a process of this machine that exited.
    services = bad_day_services(url)
    with transaction(services.session_factory) as s:
        queued = queue_run(s, FINANCE, branch_id)  # before: 409 collections_already_queued
        queued_id = queued.id
    session.expire_all()
    dead = session.get(CollectionRun, dead.id)
    assert dead.status == "interrupted"
    assert dead.message.startswith(f"A execução nº {dead.id} foi interrompida às ")
    assert "e será retomada" in dead.message
    # Its claimed rows are free now, not 5 minutes later.
    assert session.scalar(select(func.count(Negativation.id)).where(
        Negativation.status == "pending", Negativation.next_attempt_at > dt.datetime.now(dt.UTC))) == 0

    (summary,) = run_queued(services, today=TODAY)
    assert (summary.run_id, summary.status) == (queued_id, "done")
    retry_outbox(services, now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    session.expire_all()
    live = dict(session.execute(select(NegativationTitle.title_id, func.count()).where(
        NegativationTitle.live.is_(True)).group_by(NegativationTitle.title_id)).all())
    assert live == {t: 1 for t in ids.values()}
    assert sim.stats()["duplicate_titles"] == 0 and sim.stats()["negativations_created"] == 12
    services.engine.dispose()


def _running_elsewhere(services, branch_id: int, *, expires_in: dt.timedelta) -> int:
    """A run marked running whose lease is held by a process of another machine."""
    now = dt.datetime.now(dt.UTC)
    with transaction(services.session_factory) as s:
        run = CollectionRun(branch_id=branch_id, trigger="cli", requested_by="cli", status="running",
                            days_to_execute=60, started_at=now - dt.timedelta(minutes=10))
        s.add(run)
        s.add(JobLock(name=lease_name(branch_id), holder="outra-maquina:4242:abcd1234", acquired_at=run.started_at,
                      expires_at=now + expires_in))
        s.flush()
        return run.id


def test_a_run_on_another_machine_blocks_until_its_lease_expires(services, session, fake_bureau):
    branch_id, _, _ = routine_world(services)
    run_id = _running_elsewhere(services, branch_id, expires_in=dt.timedelta(seconds=60))
    with transaction(services.session_factory) as s, pytest.raises(Conflict) as busy:
        queue_run(s, FINANCE, branch_id)
    assert busy.value.code == "collections_already_queued" and busy.value.http_status == 409
    # Its heartbeat stops: when the lease expires, whoever looks next marks it interrupted.
    expired = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    with transaction(services.session_factory) as s:
        s.execute(update(JobLock).values(expires_at=expired))
    (found,) = reap(services)
    assert found.run_id == run_id and found.at == expired - RUN_LEASE_TTL
    session.expire_all()
    assert session.get(CollectionRun, run_id).status == "interrupted"
    with transaction(services.session_factory) as s:
        assert queue_run(s, FINANCE, branch_id).status == "queued"


def test_the_runs_page_and_api_show_a_dead_run_as_interrupted(client, login_as, api_token, services, session):
    branch_id, _, _ = routine_world(services)
    run_id = _running_elsewhere(services, branch_id, expires_in=-dt.timedelta(seconds=1))
    body = client.get(f"/api/v1/collections/runs/{run_id}", headers=api_token("viewer")).get_json()
    assert body["status"] == "interrupted" and f"execução nº {run_id} foi interrompida" in body["message"]
    login_as("viewer")
    assert "interrompida" in client.get("/cobranca/execucoes").get_data(as_text=True)


# --------------------------------------------------------------------------- run-collections exit codes


def _cli(app, branch_id: int):
    return app.test_cli_runner().invoke(args=["run-collections", "--branch", str(branch_id)])


def test_exit_0_only_when_the_run_completed(app, services, fake_bureau):
    branch_id, _, _ = routine_world(services, today=TODAY)
    result = _cli(app, branch_id)
    assert result.exit_code == 0, result.output
    assert "concluída" in result.output


def test_exit_4_when_inclusions_failed(app, services, fake_bureau):
    branch_id, _, _ = routine_world(services, clients=2, titles=(("T", 90),))
    fake_bureau.fail_next(BureauRejected("CEP inexistente", status=422, code="rejected"), method="negativate")
    result = _cli(app, branch_id)
    assert result.exit_code == 4, result.output


def test_exit_3_when_another_run_holds_the_branch(app, services, fake_bureau):
    from app.services.core.locks import held

    branch_id, _, _ = routine_world(services)
    with held(services.session_factory, lease_name(branch_id)):
        result = _cli(app, branch_id)
    assert result.exit_code == 3 and "outra execução" in result.output.lower()
    assert fake_bureau.calls_to("negativate") == []


def test_exit_5_when_the_bureau_refuses_the_credentials(app, services, fake_bureau, session):
    branch_id, _, _ = routine_world(services)
    fake_bureau.fail_next(AuthenticationError("Credenciais inválidas", status=401, code="invalid_client"))
    result = _cli(app, branch_id)
    assert result.exit_code == 5, result.output
    assert "Credenciais recusadas pelo bureau em" in result.output
    assert session.scalar(select(func.count(Negativation.id))) == 0 and fake_bureau.calls_to("negativate") == []


def test_exit_1_on_a_crash_and_the_codes_are_in_the_help(app, services, monkeypatch):
    from app.services.collections import routine

    branch_id, _, _ = routine_world(services)
    monkeypatch.setattr(routine, "run_collections", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    assert _cli(app, branch_id).exit_code == 1
    help_text = app.test_cli_runner().invoke(args=["run-collections", "--help"]).output
    for line in ("0  the run completed", "3  another run holds the branch", "4  completed, but the bureau refused",
                 "1  crash", "5  not completed"):
        assert line in help_text


def test_the_cli_reports_a_dead_run_and_runs_at_once(app, services, session, fake_bureau):
    branch_id, _, _ = routine_world(services)
    run_id = _running_elsewhere(services, branch_id, expires_in=-dt.timedelta(seconds=1))
    result = _cli(app, branch_id)
    assert result.exit_code == 0, result.output
    assert f"A execução nº {run_id} foi interrompida às" in result.output
    statuses = session.scalars(select(CollectionRun.status).order_by(CollectionRun.id)).all()
    assert statuses == ["interrupted", "done"]
