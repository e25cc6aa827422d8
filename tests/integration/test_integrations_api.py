"""The bureau integration through the API: provisioning a branch by script, with the web form's rules;
and the open breaker on the pages people look at."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from app.bootstrap import bootstrap
from app.models import AuditEvent, BureauIntegration
from tests.conftest import login

from .crm_helpers import make_branch

SECRET = "s3nha-do-bureau"


def new(client, headers, **extra):
    body = {"name": "CnM API", "environment": "homologacao", "base_url": "http://127.0.0.1:5999",
            "client_id": "demo-client", "client_secret": SECRET} | extra
    return client.post("/api/v1/integrations", json=body, headers=headers)


def test_admin_only_and_the_secret_is_write_only(client, api_token, session):
    admin = api_token("admin")
    assert new(client, api_token("finance")).status_code == 403
    created = new(client, admin)
    assert created.status_code == 201
    body = created.get_json()
    assert body["client_id"] == "demo-client" and body["breaker"] is None
    iid = body["id"]
    for resp in (created, client.get(f"/api/v1/integrations/{iid}", headers=admin),
                 client.get("/api/v1/integrations", headers=admin)):
        text = resp.get_data(as_text=True)
        assert SECRET not in text and "client_secret" not in text and "access_token" not in text
    # Editing without the secret keeps it; a new one replaces it (and is audited as "(alterado)").
    stored = session.get(BureauIntegration, iid).client_secret_encrypted
    renamed = client.patch(f"/api/v1/integrations/{iid}", json={"name": "CnM Sul"}, headers=admin)
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "CnM Sul"
    session.expire_all()
    assert session.get(BureauIntegration, iid).client_secret_encrypted == stored
    client.patch(f"/api/v1/integrations/{iid}", json={"client_secret": "outro"}, headers=admin)
    session.expire_all()
    assert session.get(BureauIntegration, iid).client_secret_encrypted != stored
    changes = [e.details["changes"] for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action == "integration.update").order_by(AuditEvent.id))]
    assert changes[-1]["client_secret"] == "(alterado)" and "outro" not in str(changes)


def test_same_rules_as_the_form(client, api_token, fake_bureau):
    admin = api_token("admin")
    http = new(client, admin, environment="producao", base_url="http://bureau.example.com")
    assert http.status_code == 422 and "https" in http.get_json()["error"]["fields"]["base_url"]
    no_secret = new(client, admin, client_secret="")
    assert no_secret.status_code == 422 and "client_secret" in no_secret.get_json()["error"]["fields"]
    early = new(client, admin, auto_include_remove=True, restriction_code_pf="12", restriction_code_pj="22")
    assert early.status_code == 422 and "Buscar códigos" in early.get_json()["error"]["fields"]["auto_include_remove"]
    # The body's schema refuses malformed input before the rules: unknown fields, a text boolean, an
    # environment outside the list, a name longer than its column.
    unknown = new(client, admin, token="x")
    assert unknown.status_code == 422 and unknown.get_json()["error"]["fields"] == {"token": "Campo desconhecido."}
    for field, value, message in (("auto_include_remove", "false", "Use true ou false."),
                                  ("environment", "teste", "Valor inválido; use 'producao' or 'homologacao'."),
                                  ("name", "x" * 121, "No máximo 120 caracteres."),
                                  ("client_id", 12, "Informe um texto.")):
        refused = new(client, admin, **{field: value})
        assert refused.status_code == 422 and refused.get_json()["error"]["fields"] == {field: message}, field
    assert client.get("/api/v1/integrations", headers=admin).get_json() == {"items": [], "next_cursor": None}
    iid = new(client, admin).get_json()["id"]
    auto = {"auto_include_remove": True, "restriction_code_pf": "12", "restriction_code_pj": "22"}
    before_codes = client.patch(f"/api/v1/integrations/{iid}", json=auto, headers=admin)
    assert before_codes.status_code == 422  # codes only after "Buscar códigos"
    fetched = client.post(f"/api/v1/integrations/{iid}/restriction-codes", headers=admin).get_json()
    assert [c["code"] for c in fetched["codes"]["PF"]] == ["12", "13", "90"]
    wrong = client.patch(f"/api/v1/integrations/{iid}", json=auto | {"restriction_code_pj": "12"}, headers=admin)
    assert wrong.status_code == 422 and "restriction_code_pj" in wrong.get_json()["error"]["fields"]
    done = client.patch(f"/api/v1/integrations/{iid}", json=auto, headers=admin).get_json()
    assert (done["auto_include_remove"], done["restriction_code_pf"], done["restriction_code_pj"]) == (True, "12", "22")
    cached = client.get(f"/api/v1/integrations/{iid}/restriction-codes", headers=admin).get_json()
    assert cached["codes"]["PJ"][0]["code"] == "22" and cached["fetched_at"]


def test_link_test_and_unlink(client, api_token, services, fake_bureau):
    from integrations.bureau import AuthenticationError, BureauUnavailable

    admin = api_token("admin")
    branch_id = make_branch(services, integration=False)
    iid = new(client, admin).get_json()["id"]
    linked = client.put(f"/api/v1/integrations/{iid}/branches/{branch_id}", headers=admin).get_json()
    assert linked["branch_ids"] == [branch_id]
    assert client.get("/api/v1/branches", headers=admin).get_json()["items"][0]["bureau_integration_id"] == iid
    ok = client.post(f"/api/v1/integrations/{iid}/test", headers=admin).get_json()
    assert ok["ok"] is True and ok["integration"]["last_test"]["ok"] is True
    fake_bureau.fail_next(AuthenticationError("Credenciais inválidas", status=401, code="invalid_client"))
    refused = client.post(f"/api/v1/integrations/{iid}/test", headers=admin).get_json()
    assert (refused["ok"], refused["error_code"]) == (False, "bureau_credentials_refused")
    assert refused["integration"]["breaker"]["headline"].startswith("Credenciais recusadas pelo bureau em ")
    fetch = client.post(f"/api/v1/integrations/{iid}/restriction-codes", headers=admin)
    assert fetch.status_code == 424 and fetch.get_json()["error"]["code"] == "bureau_credentials_refused"
    assert client.post(f"/api/v1/integrations/{iid}/test", headers=admin).get_json()["integration"]["breaker"] is None
    fake_bureau.fail_next(BureauUnavailable("down"))
    down = client.post(f"/api/v1/integrations/{iid}/restriction-codes", headers=admin)
    assert down.status_code == 503 and down.get_json()["error"]["code"] == "bureau_unavailable"
    assert client.delete(f"/api/v1/integrations/{iid}", headers=admin).status_code == 422  # still linked
    unlinked = client.delete(f"/api/v1/integrations/{iid}/branches/{branch_id}", headers=admin).get_json()
    assert unlinked["branch_ids"] == []
    assert client.delete(f"/api/v1/integrations/{iid}", headers=admin).status_code == 204


@pytest.mark.simulator
def test_provisioning_a_branch_by_script_against_the_simulator(test_config, db, bad_sim, users, api_token, session):
    sim = bad_sim()
    engine, _ = db
    config = dict(test_config, SIMULATOR_URL=sim.url, BUREAU_MAX_ATTEMPTS=1)
    services = bootstrap(config, engine=engine)
    client = create_app(dict(config), services=services).test_client()
    admin = api_token("admin")
    branch_id = make_branch(services, integration=False)
    # Homologação with no URL: the simulator.
    iid = new(client, admin, base_url="", client_secret="demo-secret").get_json()["id"]
    codes = client.post(f"/api/v1/integrations/{iid}/restriction-codes", headers=admin).get_json()["codes"]
    pf = next(c["code"] for c in codes["PF"] if c["kind"] == "inclusion")
    pj = next(c["code"] for c in codes["PJ"] if c["kind"] == "inclusion")
    auto = client.patch(f"/api/v1/integrations/{iid}", headers=admin, json={
        "auto_include_remove": True, "restriction_code_pf": pf, "restriction_code_pj": pj}).get_json()
    assert auto["base_url"] == sim.url and auto["auto_include_remove"] is True
    client.put(f"/api/v1/integrations/{iid}/branches/{branch_id}", headers=admin)
    tested = client.post(f"/api/v1/integrations/{iid}/test", headers=admin).get_json()
    assert tested["ok"] is True and tested["reasons_count"] > 0

    # The secret is rotated at the bureau: the breaker opens on the first call and shows on the pages.
    sim.rotate_secret()
    assert client.post(f"/api/v1/integrations/{iid}/test", headers=admin).get_json()["ok"] is False
    login(client, "admin")
    for page in ("/", "/cobranca/painel", f"/configuracoes/integracoes/{iid}"):
        assert "Credenciais recusadas pelo bureau em " in client.get(page).get_data(as_text=True), page
    # Saving the new secret in the form closes it.
    form = {"name": "CnM API", "environment": "homologacao", "base_url": sim.url, "client_id": "demo-client",
            "client_secret": "rotated-secret", "auto_include_remove": "sim", "restriction_code_pf": pf,
            "restriction_code_pj": pj}
    assert client.post(f"/configuracoes/integracoes/{iid}", data=form).status_code == 302
    assert "Credenciais recusadas" not in client.get("/").get_data(as_text=True)
    assert client.post(f"/api/v1/integrations/{iid}/test", headers=admin).get_json()["ok"] is True
    services.engine.dispose()
