"""One consultation flow against the real simulator over a socket, with the real client.

Creates a lead, consults it, converts it to a prospect, sees the consultation on the prospect's tab,
consults again inside the window (reused: the simulator's consultation count does not move), then
a bureau outage recorded as failed and retried. The audit page lists them all.
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from app import create_app
from app.bootstrap import bootstrap
from app.models import Consultation
from integrations.simulator import SimulatorConfig, start_in_thread
from tests.conftest import login

from .crm_helpers import make_branch, make_cpf

pytestmark = pytest.mark.simulator


@pytest.fixture
def simulator():
    base_url, stop = start_in_thread(SimulatorConfig(request_log=False))
    yield base_url
    stop()


@pytest.fixture
def real_services(test_config, db, simulator):
    engine, _ = db
    # No bureau_factory: bootstrap wires app.bootstrap.real_bureau_factory (CreditoNaMedidaClient).
    config = dict(test_config, SIMULATOR_URL=simulator, BUREAU_MAX_ATTEMPTS=1, BUREAU_READ_TIMEOUT=5)
    return bootstrap(config, engine=engine)


@pytest.fixture
def real_client(test_config, real_services, users):
    return create_app(dict(real_services.config), services=real_services).test_client()


def stats(base_url: str) -> dict:
    return requests.get(f"{base_url}/_sim/stats", timeout=5).json()


def test_lead_consult_convert_reuse_against_the_simulator(real_client, real_services, simulator):
    branch_id = make_branch(real_services, base_url=simulator)
    client = real_client
    login(client, "crm")
    resp = client.post(
        "/crm/leads/novo",
        data={"branch_id": str(branch_id), "name": "Lead Simulado", "document": make_cpf(77)},
    )
    party_id = int(resp.headers["Location"].split("/")[3])

    first = client.post(f"/crm/cadastros/{party_id}/consultar", data={"purpose": "cadastro", "origin": "leads"})
    report = client.get(first.headers["Location"]).get_data(as_text=True)
    with real_services.session_factory() as s:
        c = s.scalars(select(Consultation)).one()
    assert c.status == "success" and c.protocol.startswith("C-") and 0 <= c.score <= 1000
    assert c.protocol in report and c.subject_name in report
    assert stats(simulator)["consultations"] == 1

    client.post(f"/crm/cadastros/{party_id}/converter")
    tab = client.get(f"/crm/cadastros/{party_id}/consultas").get_data(as_text=True)
    assert "Prospect" in tab and "Ver relatório" in tab and "como Lead" in tab

    again = client.post(f"/crm/cadastros/{party_id}/consultar", data={"purpose": "cadastro", "origin": "prospect"})
    reused = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "REAPROVEITADA" in reused and c.protocol in reused
    assert stats(simulator)["consultations"] == 1  # no second call reached the bureau

    requests.post(f"{simulator}/_sim/config", json={"fault_rate": 1.0, "fault_kinds": ["5xx"]}, timeout=5)
    failed = client.post(
        f"/crm/cadastros/{party_id}/consultar", data={"purpose": "limite", "force_new": "1"}, follow_redirects=True
    )
    assert "indisponível" in failed.get_data(as_text=True)
    requests.post(f"{simulator}/_sim/config", json={"fault_rate": 0.0}, timeout=5)
    with real_services.session_factory() as s:
        failed_row = s.scalars(select(Consultation).where(Consultation.status == "failed")).one()
    retried = client.post(f"/crm/consultas/{failed_row.id}/repetir")
    assert client.get(retried.headers["Location"]).status_code == 200
    with real_services.session_factory() as s:
        statuses = [row.status for row in s.scalars(select(Consultation).order_by(Consultation.id))]
    assert statuses == ["success", "reused", "failed", "success"]
    assert stats(simulator)["consultations"] == 2

    login(client, "admin")
    audit = client.get(f"/auditoria/?document={make_cpf(77)}").get_data(as_text=True)
    for action in ("consultation.success", "consultation.reuse", "consultation.failed", "party.convert"):
        assert action in audit
