"""Outbound status/limit updates to the commerce platform: retries under a failing platform, exactly
one delivery, HMAC verified by the simulator over a real socket, the delivery log (rule 21)."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from sqlalchemy import select

from app.db import transaction
from app.models import DeliveryLog, OutboundUpdate
from app.services.commerce import outbox as commerce_outbox
from app.services.core.clock import now_utc
from app.services.credit import accounts as credit_accounts
from integrations.commerce.http_platform import HttpCommercePlatform
from integrations.commerce.samples import cnpj_for
from integrations.commerce.simulator import PlatformConfig, start_in_thread

from .credit_support import FINANCE, make_branch, make_client, set_policy

SECRET = "segredo-compartilhado"


@pytest.fixture
def platform():
    base, app, stop = start_in_thread(PlatformConfig(secret=SECRET))
    yield base, app
    stop()


@pytest.fixture
def branch_id(services, platform):
    base, _ = platform
    bid = make_branch(services)
    set_policy(services, bid, platform_url=f"{base}/updates", platform_secret=SECRET)
    return bid


def rows(services):
    with services.session_factory() as s:
        return list(s.scalars(select(OutboundUpdate).order_by(OutboundUpdate.id)))


def log(services):
    with services.session_factory() as s:
        return [(d.attempt, d.ok, d.http_status) for d in s.scalars(select(DeliveryLog).order_by(DeliveryLog.id))]


def test_failing_platform_is_retried_with_backoff_then_delivered_once(services, platform, branch_id):
    base, app = platform
    app.config.fail_first = 2
    party_id = make_client(services, branch_id, status="APV", limit="1000.00", external_id="PLT-1")
    t0 = now_utc()
    summary = commerce_outbox.deliver_pending(services, now=t0)
    assert (summary.sent, summary.retrying) == (0, 1)
    [row] = rows(services)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, 'HTTP 503: {"error": "unavailable"}')
    assert dt.timedelta(seconds=30) <= row.next_attempt_at - t0 <= dt.timedelta(seconds=33)
    assert commerce_outbox.deliver_pending(services, now=t0 + dt.timedelta(seconds=10)).skipped == 0  # not due
    assert len(log(services)) == 1
    commerce_outbox.deliver_pending(services, now=t0 + dt.timedelta(seconds=40))
    [row] = rows(services)
    assert dt.timedelta(seconds=60) <= row.next_attempt_at - (t0 + dt.timedelta(seconds=40)) <= dt.timedelta(
        seconds=66)
    assert commerce_outbox.deliver_pending(services, now=t0 + dt.timedelta(minutes=5)).sent == 1
    assert commerce_outbox.deliver_pending(services, now=t0 + dt.timedelta(hours=5)).sent == 0
    [row] = rows(services)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert log(services) == [(1, False, 503), (2, False, 503), (3, True, 200)]
    received = requests.get(f"{base}/received", timeout=5).json()
    assert received["count"] == 1
    assert received["items"][0]["payload"] | {"sent_at": 0} == {
        "event": "credit_limit", "update_id": row.id, "customer_id": "PLT-1", "document": "52998224725",
        "branch_cnpj": "11222333000181", "status": "APV", "credit_limit": "1000.00", "available_credit": "1000.00",
        "tolerance_pct": "0.00", "sent_at": 0}
    assert received["items"][0]["idempotency_key"] == f"credit-desk-update-{row.id}"
    assert party_id


def test_random_faults_still_deliver_every_update_exactly_once(services, platform, branch_id):
    base, app = platform
    app.config.fault_rate = 0.5
    ids = [make_client(services, branch_id, document=d, limit="10", external_id=f"P{i}")
           for i, d in enumerate([cnpj_for(n) for n in range(1, 5)])]
    now = now_utc()
    for _ in range(40):
        now += dt.timedelta(hours=1)
        commerce_outbox.deliver_pending(services, now=now)
        if all(r.status == "sent" for r in rows(services)):
            break
    assert [r.status for r in rows(services)] == ["sent"] * len(ids)
    received = requests.get(f"{base}/received", timeout=5).json()["items"]
    assert sorted(i["payload"]["customer_id"] for i in received) == ["P0", "P1", "P2", "P3"]


def test_a_repeated_delivery_with_the_same_key_is_applied_once(platform):
    base, app = platform
    adapter = HttpCommercePlatform()
    first = adapter.send_update(f"{base}/updates", SECRET, {"event": "customer_status"}, idempotency_key="k-1")
    again = adapter.send_update(f"{base}/updates", SECRET, {"event": "customer_status"}, idempotency_key="k-1")
    assert (first.ok, again.ok) == (True, True)
    assert len(app.received()) == 1


def test_wrong_secret_is_refused_by_the_simulator_and_fails_at_once(services, platform, branch_id):
    base, app = platform
    set_policy(services, branch_id, platform_url=f"{base}/updates", platform_secret="outro-segredo")
    make_client(services, branch_id, limit="10")
    summary = commerce_outbox.deliver_pending(services)
    assert (summary.failed, summary.retrying) == (1, 0)
    [row] = rows(services)
    assert row.status == "failed" and row.last_error.startswith("HTTP 401")
    assert app.received() == []
    set_policy(services, branch_id, platform_url=f"{base}/updates", platform_secret=SECRET)
    with transaction(services.session_factory) as s:
        commerce_outbox.retry_update(s, FINANCE, row.id)
    assert commerce_outbox.deliver_pending(services).sent == 1
    assert len(app.received()) == 1


def test_replayed_or_tampered_bodies_are_refused(platform):
    base, app = platform
    from integrations.commerce.signing import signature

    body = b'{"event":"credit_limit","sent_at":1}'
    resp = requests.post(f"{base}/updates", data=body, timeout=5, headers={
        "X-Signature": signature(SECRET, body), "X-Timestamp": "1"})
    assert resp.status_code == 401 and resp.json()["error"] == "stale_request"
    resp = requests.post(f"{base}/updates", data=body + b" ", timeout=5, headers={
        "X-Signature": signature(SECRET, body), "X-Timestamp": "1"})
    assert resp.json()["error"] == "invalid_signature"
    assert app.received() == []


def test_unreachable_platform_is_retried_and_gives_up_after_max_attempts(services, branch_id, monkeypatch):
    set_policy(services, branch_id, platform_url="http://127.0.0.1:9/updates", platform_secret=SECRET)
    make_client(services, branch_id, limit="10")
    monkeypatch.setattr(commerce_outbox, "MAX_ATTEMPTS", 3)
    now = now_utc()
    outcomes = []
    for _ in range(3):
        now += dt.timedelta(hours=2)
        summary = commerce_outbox.deliver_pending(services, now=now)
        outcomes.append((summary.retrying, summary.failed))
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    [row] = rows(services)
    assert row.status == "failed" and row.last_error.startswith("Falha de conexão")


def test_only_the_newest_pending_value_is_delivered(services, platform, branch_id):
    base, app = platform
    party_id = make_client(services, branch_id, limit="100")
    with transaction(services.session_factory) as s:
        credit_accounts.set_limit(s, FINANCE, party_id, "200", "revisão")
    assert commerce_outbox.deliver_pending(services).sent == 1
    assert [i["payload"]["credit_limit"] for i in app.received()] == ["200.00"]


def test_scheduler_job_delivers(services, platform, branch_id):
    from scheduler.registry import JOBS, run_job
    from scheduler.runner import load_jobs

    base, app = platform
    make_client(services, branch_id, limit="10")
    load_jobs()
    result = run_job(JOBS["commerce_outbox"], services)
    assert (result.sent, result.failed) == (1, 0)
    assert len(app.received()) == 1


def test_deliveries_page(client, services, login_as, platform, branch_id):
    make_client(services, branch_id, limit="10", name="Cliente Envio")
    login_as("finance")
    assert client.post("/credito/entregas/enviar-agora").status_code == 302
    page = client.get("/credito/entregas").get_data(as_text=True)
    assert "Cliente Envio" in page and "Enviada" in page and "entregue" in page
    login_as("viewer")
    assert client.get("/credito/entregas").status_code == 200
    assert client.post("/credito/entregas/enviar-agora").status_code == 403
