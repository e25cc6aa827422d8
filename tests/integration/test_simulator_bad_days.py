"""The simulator's bad-day controls (POST /_sim/config): rotate a secret, lose answers, die mid-run."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.simulator


def _token(url: str, secret: str = "demo-secret") -> requests.Response:
    return requests.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"},
                         auth=("demo-client", secret), timeout=5)


def _reasons(url: str, token: str) -> int:
    return requests.get(f"{url}/v1/restriction-reasons", params={"person_type": "PF"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code


def test_rotating_a_secret_refuses_it_and_revokes_its_tokens(bad_sim):
    sim = bad_sim()
    token = _token(sim.url).json()["access_token"]
    assert _reasons(sim.url, token) == 200
    sim.rotate_secret("novo")
    assert _reasons(sim.url, token) == 401
    refused = _token(sim.url)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert _token(sim.url, "novo").status_code == 200
    assert sim.stats()["tokens_revoked"] == 1
    assert "novo" not in requests.get(f"{sim.url}/_sim/config", timeout=5).text  # secrets never shown


def test_a_lost_answer_is_processed_then_times_out(bad_sim):
    sim = bad_sim(timeout_sleep_s=0.5)
    token = _token(sim.url).json()["access_token"]
    sim.configure(lost_answer_rate=1.0)
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{sim.url}/v1/consultations", json={"document": "52998224725", "document_type": "CPF"},
                      headers={"Authorization": f"Bearer {token}"}, timeout=0.2)
    stats = sim.stats()
    assert stats["consultations"] == 1 and stats["answers_lost"] == 1  # done (charged), answer lost


def test_dying_after_n_requests_and_coming_back(bad_sim):
    sim = bad_sim()
    token = _token(sim.url).json()["access_token"]
    sim.configure(die_after_requests=2)
    assert [_reasons(sim.url, token) for _ in range(4)] == [200, 200, 503, 503]
    assert _token(sim.url).status_code == 503 and sim.stats()["dead"] is True
    sim.configure(die_after_requests=None)
    assert _reasons(sim.url, token) == 200 and sim.stats()["dead"] is False
    bad = requests.post(f"{sim.url}/_sim/config", json={"die_after_requests": -1}, timeout=5)
    assert bad.status_code == 400
