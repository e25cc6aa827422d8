"""The simulator's /_sim divergence controls: each changes what GET /v1/negativations/{protocol} says."""

from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.test import Client

from integrations.simulator import SimulatorConfig, create_simulator_app
from tests.clock import pin_clock
from tests.integration.titles_support import TODAY

PAYLOAD = {"document": "52998224725", "document_type": "CPF", "restriction_code": "12",
           "debtor": {"name": "Maria", "address": {"street": "Rua A", "number": "1", "district": "Centro",
                                                   "city": "São Paulo", "state": "SP", "zip": "01001000"}},
           "creditor": {"cnpj": "11222333000181", "name": "Matriz"},
           "titles": [{"number": "T-1", "due_date": (TODAY - dt.timedelta(days=90)).isoformat(), "amount": "99.90"}],
           "total_amount": "99.90"}


@pytest.fixture
def sim():
    with pin_clock(TODAY):
        yield from _sim()


def _sim():
    app = create_simulator_app(SimulatorConfig(request_log=False))
    client = Client(app)
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=("demo-client", "demo-secret")).json["access_token"]
    yield client, {"Authorization": f"Bearer {token}"}
    app.close()


def create(client, headers, key="k-1") -> str:
    resp = client.post("/v1/negativations", json=PAYLOAD, headers={**headers, "Idempotency-Key": key})
    assert resp.status_code == 201, resp.json
    return resp.json["protocol"]


def test_controls_change_the_status_answer(sim):
    client, headers = sim
    protocol = create(client, headers)
    status = lambda: client.get(f"/v1/negativations/{protocol}", headers=headers)  # noqa: E731
    assert (status().json["status"], status().json["total_amount"]) == ("notice", "99.90")
    assert client.post(f"/_sim/negativations/{protocol}/amount", json={"total_amount": "120.00"}).status_code == 200
    assert status().json["total_amount"] == "120.00"
    assert client.post(f"/_sim/negativations/{protocol}/activate").json["status"] == "active"
    assert status().json["status"] == "active"
    client.post(f"/_sim/negativations/{protocol}/remove")
    assert status().json["status"] == "removed"
    client.post(f"/_sim/negativations/{protocol}/activate")
    assert (status().json["status"], status().json["removed_at"]) == ("active", None)
    # A removal after "activate" really removes again (its earlier removal keys were forgotten).
    removal = client.post(f"/v1/negativations/{protocol}/removal", json={"reason": "payment"},
                          headers={**headers, "Idempotency-Key": "r-1"})
    assert removal.status_code == 200 and status().json["status"] == "removed"
    client.post(f"/_sim/negativations/{protocol}/forget")
    assert status().status_code == 404
    # Forgotten with its keys: the same Idempotency-Key now creates a new protocol.
    assert create(client, headers) != protocol


def test_bad_requests(sim):
    client, headers = sim
    protocol = create(client, headers)
    assert client.post("/_sim/negativations/N-NOPE/remove").status_code == 404
    assert client.post(f"/_sim/negativations/{protocol}/explode").status_code == 400
    assert client.post(f"/_sim/negativations/{protocol}/amount", json={"total_amount": 12.5}).status_code == 400
