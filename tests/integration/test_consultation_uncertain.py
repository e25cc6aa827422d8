"""Consultations whose answer was lost after the bureau did (and charged) them, against the simulator:
recorded as "incerta — pode ter sido cobrada", shown with their cost, counted in the quota; a new call
for the document inside the reuse window asks for confirmation (web and API)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app import create_app
from app.bootstrap import bootstrap
from app.models import Consultation
from app.services.consultations.consult import (
    ConsultationUncertain,
    PossibleSecondCharge,
    consult_credit,
    retry_consultation,
    used_this_month,
)
from app.services.core.audit import Actor
from app.services.core.clock import today_br
from tests.conftest import login

from .crm_helpers import make_branch, make_party, set_policy

pytestmark = pytest.mark.simulator
CRM = Actor(name="carla", user_id=None, role="crm")
COST = Decimal("4.90")


@pytest.fixture
def lost(test_config, db, bad_sim, users):
    """(simulator losing every answer after the work, services with the real client, Flask app)."""
    sim = bad_sim(lost_answer_rate=1.0, timeout_sleep_s=1.0)
    engine, _ = db
    config = dict(test_config, SIMULATOR_URL=sim.url, BUREAU_MAX_ATTEMPTS=1, BUREAU_READ_TIMEOUT=0.3)
    services = bootstrap(config, engine=engine)
    branch_id = make_branch(services, base_url=sim.url)
    set_policy(services, branch_id, cost_per_consultation=COST)
    return sim, services, create_app(dict(config), services=services), branch_id


def test_lost_answers_are_uncertain_with_their_cost_and_count_in_the_quota(lost, session):
    sim, services, _, branch_id = lost
    sim.configure(lost_answer_rate=0.75)
    outcomes = []
    for seed in range(1, 9):  # eight documents, one consultation each
        party_id = make_party(services, branch_id, seed=seed, name=f"Pessoa {seed}")
        try:
            outcomes.append(consult_credit(services, CRM, party_id).status)
        except ConsultationUncertain as exc:
            assert exc.http_status == 424 and exc.code == "bureau_outcome_unknown"
            outcomes.append("uncertain")
    stats = sim.stats()
    rows = session.scalars(select(Consultation).order_by(Consultation.id)).all()
    assert [r.status for r in rows] == outcomes
    # Before: every lost answer was "failed, nothing charged". Now each charged one is accounted for.
    assert outcomes.count("uncertain") == stats["answers_lost"] > 0
    assert stats["consultations"] == 8 == used_this_month(session, branch_id, today_br())
    uncertain = next(r for r in rows if r.status == "uncertain")
    assert uncertain.cost == COST and uncertain.status_label == "Incerta — pode ter sido cobrada"
    assert "pode ter sido registrada (e cobrada)" in uncertain.error_message


def test_retrying_an_uncertain_consultation_asks_for_confirmation(lost, session):
    sim, services, app, branch_id = lost
    party_id = make_party(services, branch_id, seed=3)
    with pytest.raises(ConsultationUncertain) as first:
        consult_credit(services, CRM, party_id)
    sim.configure(lost_answer_rate=0)
    with pytest.raises(PossibleSecondCharge) as asked:
        retry_consultation(services, CRM, first.value.consultation_id)
    assert asked.value.http_status == 409 and "segunda cobrança" in asked.value.message
    with pytest.raises(PossibleSecondCharge):  # a new consultation of the document asks too
        consult_credit(services, CRM, party_id)
    assert sim.stats()["consultations"] == 1  # nothing was sent meanwhile

    client = app.test_client()
    login(client, "crm")
    report = client.get(f"/crm/consultas/{first.value.consultation_id}").get_data(as_text=True)
    assert "INCERTA — PODE TER SIDO COBRADA" in report and "R$ 4,90" in report
    assert "pode ter sido cobrada (conta na cota do mês)" in report
    assert "Entendo que uma segunda cobrança pode ocorrer" in report
    url = f"/crm/consultas/{first.value.consultation_id}/repetir"
    refused = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "segunda cobrança" in refused and sim.stats()["consultations"] == 1
    done = client.post(url, data={"confirm_possible_charge": "1"})
    assert done.status_code == 302 and sim.stats()["consultations"] == 2
    newest = session.scalars(select(Consultation).order_by(Consultation.id.desc())).first()
    assert (newest.status, newest.retry_of_id, newest.charged) == ("success", first.value.consultation_id, True)


def test_api_answers_424_for_a_lost_answer_and_409_without_confirmation(lost, api_token):
    sim, services, app, branch_id = lost
    party_id = make_party(services, branch_id, seed=5)
    client = app.test_client()
    crm = api_token("crm")
    failed = client.post(f"/api/v1/parties/{party_id}/consultations", json={}, headers=crm)
    err = failed.get_json()["error"]
    assert failed.status_code == 424 and err["code"] == "bureau_outcome_unknown"
    row = client.get(f"/api/v1/consultations/{err['consultation_id']}", headers=crm).get_json()
    assert (row["status"], row["possibly_charged"], row["cost"]) == ("uncertain", True, "4.90")
    sim.configure(lost_answer_rate=0)
    retry = f"/api/v1/consultations/{err['consultation_id']}/retry"
    asked = client.post(retry, headers=crm)
    assert asked.status_code == 409 and asked.get_json()["error"]["code"] == "consultation_possible_charge"
    confirmed = client.post(retry, json={"confirm_possible_charge": True}, headers=crm)
    assert confirmed.status_code == 201 and confirmed.get_json()["status"] == "success"
    sim.configure(die_after_requests=0)  # the bureau is down: 503, never 502
    down = client.post(f"/api/v1/parties/{party_id}/consultations",
                       json={"force_new": True, "confirm_possible_charge": True}, headers=crm)
    assert down.status_code == 503 and down.get_json()["error"]["code"] == "bureau_unavailable"
