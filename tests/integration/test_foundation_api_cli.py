"""API authentication and settings endpoints; the foundation CLI commands."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import ApiToken, Branch, BureauIntegration, User


def test_api_requires_a_valid_token(client, users, api_token):
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer cd_nope"}).status_code == 401
    me = client.get("/api/v1/me", headers=api_token("crm")).get_json()
    assert (me["username"], me["role"], me["credit_analysis_enabled"]) == ("crm", "crm", True)


def test_revoked_token_stops_working(client, users, api_token, login_as, session):
    headers = api_token("finance")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    login_as("finance")
    token_id = session.scalar(select(ApiToken.id))
    client.post(f"/conta/tokens/{token_id}/revogar")
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_token_page_shows_the_token_once_and_stores_only_a_hash(client, users, login_as, session):
    login_as("viewer")
    html = client.post("/conta/tokens", data={"name": "ERP"}).get_data(as_text=True)
    import re

    clear = re.search(r'id="new-token">([^<]+)<', html).group(1)
    row = session.scalars(select(ApiToken)).one()
    assert clear.startswith("cd_") and clear not in (row.token_hash, row.prefix)
    assert clear not in client.get("/conta/tokens").get_data(as_text=True)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"}).status_code == 200


def test_api_branch_validation_is_json_in_portuguese(client, users, api_token, session):
    admin = api_token("admin")
    resp = client.post("/api/v1/branches", json={"name": "B", "cnpj": "123"}, headers=admin)
    body = resp.get_json()
    assert resp.status_code == 422
    assert body["error"]["code"] == "validation_error"
    assert "CNPJ inválido" in body["error"]["fields"]["cnpj"]
    assert session.scalar(select(func.count(Branch.id))) == 0
    ok = client.post("/api/v1/branches", json={"name": "B", "cnpj": "11.222.333/0001-81", "state": "RJ"},
                     headers=admin)
    assert ok.status_code == 201 and ok.get_json()["cnpj"] == "11222333000181"
    assert client.post("/api/v1/branches", json={"name": "C", "cnpj": "11222333000181"},
                       headers=admin).status_code == 409
    assert client.post("/api/v1/branches", data="not json", headers=admin).get_json()["error"]["code"] == \
        "invalid_json"


def test_api_switch_is_admin_only(client, users, api_token):
    resp = client.put("/api/v1/settings/credit-analysis", json={"enabled": False}, headers=api_token("finance"))
    assert resp.status_code == 403
    assert client.get("/api/v1/settings/credit-analysis", headers=api_token("viewer")).get_json() == {"enabled": True}
    bad = client.put("/api/v1/settings/credit-analysis", json={"enabled": "no"}, headers=api_token("admin"))
    assert bad.status_code == 422
    assert client.put("/api/v1/settings/credit-analysis", json={"enabled": False},
                      headers=api_token("admin")).get_json() == {"enabled": False}


def test_api_integrations_never_expose_secret_or_token(client, users, api_token, session, services):
    session.add(BureauIntegration(name="i", base_url="https://x.example", client_id="cid",
                                  client_secret_encrypted=services.box.encrypt("super-secret"),
                                  access_token_encrypted=services.box.encrypt("the-token")))
    session.commit()
    text = client.get("/api/v1/integrations", headers=api_token("admin")).get_data(as_text=True)
    assert "super-secret" not in text and "the-token" not in text and "encrypted" not in text
    assert client.get("/api/v1/integrations", headers=api_token("crm")).status_code == 403


def test_cli_create_user_and_token(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--username", "Maria", "--role", "finance",
                                 "--password", "uma-senha-longa"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(User.role).where(User.username == "maria")) == "finance"
    short = runner.invoke(args=["create-user", "--username", "joao", "--role", "crm", "--password", "curta"])
    assert short.exit_code != 0 and "pelo menos 12 caracteres" in short.output
    token = runner.invoke(args=["create-token", "--username", "maria"])
    assert token.exit_code == 0 and token.output.strip().startswith("cd_")
    assert app.test_client().get("/api/v1/me", headers={
        "Authorization": f"Bearer {token.output.strip()}"}).get_json()["username"] == "maria"


def test_seed_demo_is_idempotent(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = (session.scalar(select(func.count(User.id))), session.scalar(select(func.count(Branch.id))),
              session.scalar(select(func.count(BureauIntegration.id))))
    assert counts[1:] == (2, 2)
    names = set(session.scalars(select(User.username)))
    assert {"admin", "financeiro", "crm", "leitura"} <= names
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert (session.scalar(select(func.count(User.id))), session.scalar(select(func.count(Branch.id))),
            session.scalar(select(func.count(BureauIntegration.id)))) == counts
    branches = session.scalars(select(Branch).order_by(Branch.id)).all()
    assert all(b.bureau_integration_id for b in branches)
    assert "admin" in first.output and "financeiro" in first.output
