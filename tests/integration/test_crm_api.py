"""JSON API /api/v1 for leads, prospects, clients, contacts and consultations."""

from __future__ import annotations

import pytest

from app.db import transaction
from app.services.settings import switches as app_settings
from integrations.bureau import BureauUnavailable

from .crm_helpers import TEST_ACTOR, make_branch, make_cnpj, make_cpf, set_policy


@pytest.fixture
def branch_id(services):
    return make_branch(services)


def new_lead(client, headers, branch_id, **extra):
    body = {
        "branch_id": branch_id,
        "name": "Empresa API Ltda",
        "document": make_cnpj(50),
        "email": "api@x.com.br",
        "address": {
            "street": "Rua A",
            "number": "1",
            "district": "Centro",
            "city": "Recife",
            "state": "PE",
            "zip": "50010-000",
        },
        **extra,
    }
    resp = client.post("/api/v1/leads", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_crud_convert_and_errors(client, api_token, branch_id):
    crm = api_token("crm")
    lead = new_lead(client, crm, branch_id)
    assert (lead["stage"], lead["document"], lead["address"]["zip"], lead["status"]) == (
        "lead",
        make_cnpj(50),
        "50010000",
        "PEN",
    )
    got = client.get(f"/api/v1/leads/{lead['id']}", headers=crm).get_json()
    assert got["name"] == "Empresa API Ltda"
    resp = client.patch(f"/api/v1/leads/{lead['id']}", json={"mobile": "(81) 99999-0000"}, headers=crm)
    assert resp.get_json()["mobile"] == "81999990000" and resp.get_json()["email"] == "api@x.com.br"
    bad = client.post(
        "/api/v1/leads", json={"branch_id": branch_id, "name": "", "document": "123"}, headers=crm
    )
    assert bad.status_code == 422
    err = bad.get_json()["error"]
    assert err["code"] == "validation_error" and set(err["fields"]) == {"name", "document"}
    dup = client.post(
        "/api/v1/leads", json={"branch_id": branch_id, "name": "X", "document": make_cnpj(50)}, headers=crm
    )
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "duplicate_document"
    assert client.get(f"/api/v1/prospects/{lead['id']}", headers=crm).status_code == 404
    converted = client.post(f"/api/v1/leads/{lead['id']}/convert", headers=crm).get_json()
    assert converted["stage"] == "prospect" and converted["id"] == lead["id"]
    assert client.post(f"/api/v1/prospects/{lead['id']}/convert", headers=crm).get_json()["stage"] == "client"
    assert client.post(f"/api/v1/clients/{lead['id']}/convert", headers=crm).status_code == 404
    listing = client.get("/api/v1/clients?q=empresa", headers=crm).get_json()
    assert [p["id"] for p in listing["items"]] == [lead["id"]] and listing["next_cursor"] is None
    assert client.get("/api/v1/leads", headers=crm).get_json()["items"] == []
    unauth = client.get("/api/v1/leads")
    assert unauth.status_code == 401 and unauth.get_json()["error"]["code"] == "unauthorized"


def test_keyset_pages_over_the_api(client, api_token, branch_id):
    crm = api_token("crm")
    for i in range(5):
        client.post(
            "/api/v1/clients",
            json={"branch_id": branch_id, "name": f"C{i}", "document": make_cpf(60 + i)},
            headers=crm,
        )
    first = client.get("/api/v1/clients?limit=2&sort=name", headers=crm).get_json()
    second = client.get(
        f"/api/v1/clients?limit=2&sort=name&after={first['next_cursor']}", headers=crm
    ).get_json()
    third = client.get(
        f"/api/v1/clients?limit=2&sort=name&after={second['next_cursor']}", headers=crm
    ).get_json()
    names = [p["name"] for p in first["items"] + second["items"] + third["items"]]
    assert names == ["C0", "C1", "C2", "C3", "C4"] and third["next_cursor"] is None


def test_contacts_and_viewer_masking(client, api_token, branch_id):
    crm, viewer = api_token("crm"), api_token("viewer")
    lead = new_lead(client, crm, branch_id)
    contact = client.post(
        f"/api/v1/parties/{lead['id']}/contacts",
        json={"name": "Sócio", "document": make_cpf(70)},
        headers=crm,
    ).get_json()
    assert contact["document"] == make_cpf(70)
    upd = client.put(
        f"/api/v1/parties/{lead['id']}/contacts/{contact['id']}", json={"role": "Diretor"}, headers=crm
    )
    assert upd.get_json()["role"] == "Diretor" and upd.get_json()["name"] == "Sócio"
    seen = client.get(f"/api/v1/parties/{lead['id']}/contacts", headers=viewer).get_json()["items"]
    assert seen[0]["document"].startswith("***.") and seen[0]["document"].endswith("-**")
    assert (
        client.get(f"/api/v1/leads/{lead['id']}", headers=viewer).get_json()["document"].endswith("****-**")
    )
    denied = client.post("/api/v1/leads", json={"branch_id": branch_id, "name": "x"}, headers=viewer)
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "forbidden"
    assert (
        client.delete(f"/api/v1/parties/{lead['id']}/contacts/{contact['id']}", headers=crm).status_code
        == 204
    )
    assert client.delete(f"/api/v1/leads/{lead['id']}", headers=crm).status_code == 204


def test_consultations_create_reuse_get_list_and_decide(client, api_token, branch_id, fake_bureau):
    crm, finance, viewer = api_token("crm"), api_token("finance"), api_token("viewer")
    lead = new_lead(client, crm, branch_id)
    url = f"/api/v1/parties/{lead['id']}/consultations"
    first = client.post(url, json={"purpose": "cadastro"}, headers=crm)
    assert first.status_code == 201
    body = first.get_json()
    assert (body["status"], body["reused"], body["origin"], body["requested_by"]) == (
        "success",
        False,
        "api",
        "api:crm",
    )
    assert 0 <= body["report"]["score"] <= 1000 and body["protocol"].startswith("C-")
    assert body["report"]["name"] == "Empresa " + make_cnpj(50)[-4:]  # the fake bureau's name
    again = client.post(url, json={"purpose": "cadastro"}, headers=crm)
    assert again.status_code == 200 and again.get_json()["reused"] is True
    assert again.get_json()["reused_from_id"] == body["id"]
    assert len(fake_bureau.calls_to("consult")) == 1
    forced = client.post(url, json={"purpose": "limite", "force_new": True}, headers=crm)
    assert forced.status_code == 201 and len(fake_bureau.calls_to("consult")) == 2
    listing = client.get(url, headers=viewer).get_json()["items"]
    assert [c["status"] for c in listing] == ["success", "reused", "success"]
    assert listing[0]["document"].endswith("****-**")  # viewer: masked
    got = client.get(f"/api/v1/consultations/{body['id']}", headers=viewer).get_json()
    assert got["protocol"] == body["protocol"]
    assert client.post(url, json={"purpose": "cadastro"}, headers=viewer).status_code == 403
    no = client.post(
        f"/api/v1/consultations/{body['id']}/decision",
        json={"status": "APV", "reason": "ok ok ok"},
        headers=crm,
    )
    assert no.status_code == 403
    decided = client.post(
        f"/api/v1/consultations/{body['id']}/decision",
        json={"status": "APV", "reason": "Sócio conhecido", "credit_limit": "2500.00"},
        headers=finance,
    ).get_json()
    assert decided["decision"]["status"] == "APV" and decided["decision"]["credit_limit"] == "2500.00"
    assert decided["decision"]["decided_by"] == "api:finance"
    assert client.get(f"/api/v1/leads/{lead['id']}", headers=crm).get_json()["status"] == "APV"
    bad = client.post(url, json={"purpose": "curiosidade"}, headers=crm)
    assert bad.status_code == 422 and "purpose" in bad.get_json()["error"]["fields"]


def test_failure_quota_and_switch(client, api_token, services, branch_id, fake_bureau):
    crm = api_token("crm")
    lead = new_lead(client, crm, branch_id)
    url = f"/api/v1/parties/{lead['id']}/consultations"
    fake_bureau.fail_next(BureauUnavailable("down"))
    failed = client.post(url, json={}, headers=crm)
    assert failed.status_code == 503  # never 502: that reads as a proxy's error
    err = failed.get_json()["error"]
    assert err["code"] == "bureau_unavailable" and "indisponível" in err["message"]
    retried = client.post(f"/api/v1/consultations/{err['consultation_id']}/retry", headers=crm)
    assert retried.status_code == 201 and retried.get_json()["retry_of_id"] == err["consultation_id"]
    set_policy(services, branch_id, monthly_quota=1)
    quota = client.post(url, json={"force_new": True}, headers=crm)
    assert quota.status_code == 429 and quota.get_json()["error"]["code"] == "consultation_quota_exceeded"
    with transaction(services.session_factory) as s:
        app_settings.set_credit_analysis(s, TEST_ACTOR, False)
    for headers in (crm, api_token("viewer"), api_token("admin")):
        off = client.post(url, json={}, headers=headers)
        assert off.status_code == 403 and off.get_json()["error"]["code"] == "credit_analysis_disabled"
    assert client.get(url, headers=crm).get_json()["error"]["code"] == "credit_analysis_disabled"
    assert len(fake_bureau.calls_to("consult")) == 2
