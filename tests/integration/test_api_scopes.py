"""Scoped, expiring API credentials: every route needs a scope, the commerce platform's credential has
only the commerce scopes (no personal data, no charged consultations), admins manage tokens per user."""

from __future__ import annotations

import datetime as dt
import json
import re

import time_machine
from sqlalchemy import select, text

from app.api.scopes import ENDPOINT_SCOPES, NO_SCOPE
from app.db import make_engine, transaction
from app.migrations.runner import upgrade
from app.models import ApiToken, AuditEvent, User
from app.services.core.audit import Actor
from app.services.core.scopes import COMMERCE_SCOPES, SCOPES
from app.services.settings import api_tokens
from app.services.settings import users as user_service
from integrations.commerce.samples import batch_xml
from integrations.commerce.signing import inbound_headers
from tests.conftest import PASSWORD

from .credit_support import CPF, make_branch, make_client, set_policy

SECRET = "segredo-da-plataforma"
T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def _token(services, username: str, scopes=None, expires_at=None) -> dict:
    with transaction(services.session_factory) as s:
        user = s.scalar(select(User).where(User.username == username))
        _, clear = api_tokens.create_api_token(s, Actor.system("test"), user, "t", scopes=scopes,
                                               expires_at=expires_at)
    return {"Authorization": f"Bearer {clear}"}


def _platform_user(services) -> None:
    with transaction(services.session_factory) as s:
        user_service.create_user(s, Actor.system("test"), username="plataforma", name="Plataforma B2B",
                                 password=PASSWORD, role="crm")


def test_every_api_route_names_a_known_scope(app):
    # The API's own blueprint; the contract and its docs page (api_docs) are public by design.
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("api.")}
    assert endpoints - set(ENDPOINT_SCOPES) == set(), "routes without a scope are refused: add them"
    assert set(ENDPOINT_SCOPES) - endpoints == set(), "stale entries"
    assert set(ENDPOINT_SCOPES.values()) - {NO_SCOPE} == set(SCOPES), "every scope opens at least one route"


def test_platform_credential_registers_customers_and_orders_but_sees_no_personal_data(
        client, services, fake_bureau, users):
    branch_id = make_branch(services)
    set_policy(services, branch_id, platform_secret=SECRET)
    party_id = make_client(services, branch_id, limit="1000.00")
    _platform_user(services)
    platform = _token(services, "plataforma", scopes=COMMERCE_SCOPES)

    body = batch_xml(1, 2)
    resp = client.post(f"/api/v1/commerce/customers?branch={branch_id}", data=body,
                       headers={**platform, "Content-Type": "application/xml", **inbound_headers(SECRET, body)})
    assert resp.status_code == 200 and resp.get_json()["created"] == 2
    resp = client.post("/api/v1/credit/authorizations", headers=platform, json={
        "branch_id": branch_id, "document": CPF, "amount": "100.00", "method": "boleto_faturado",
        "order_ref": "PED-1"})
    assert resp.status_code == 200 and resp.get_json()["approved"] is True
    assert client.get("/api/v1/me", headers=platform).get_json()["scopes"] == list(COMMERCE_SCOPES)

    refused = {
        ("GET", "/api/v1/clients"): "crm:read",
        ("GET", f"/api/v1/clients/{party_id}"): "crm:read",
        ("POST", "/api/v1/leads"): "crm:write",
        ("DELETE", f"/api/v1/clients/{party_id}"): "crm:write",
        ("POST", f"/api/v1/parties/{party_id}/consultations"): "consultations",
        ("GET", "/api/v1/credit/accounts"): "credit",
        ("GET", "/api/v1/credit/accounts.csv"): "credit",
        ("GET", "/api/v1/titles"): "titles",
    }
    for (method, url), scope in refused.items():
        resp = client.open(url, method=method, headers=platform, json={"branch_id": branch_id, "name": "X"})
        assert resp.status_code == 403, (method, url)
        assert resp.get_json()["error"] == {"code": "insufficient_scope", "required_scope": scope,
                                            "message": f"Este token não tem o escopo necessário ({scope})."}
    assert fake_bureau.calls == []  # no charged consultation reached the bureau
    # The same user with a crm-wide token can: it is the scope that refuses, not the role.
    crm_wide = _token(services, "plataforma")
    assert client.get("/api/v1/clients", headers=crm_wide).status_code == 200


def test_scopes_narrow_but_never_widen_the_role(client, services, users):
    viewer_with_write = _token(services, "viewer", scopes=["crm:write", "crm:read"])
    assert client.get("/api/v1/clients", headers=viewer_with_write).status_code == 200
    resp = client.post("/api/v1/leads", headers=viewer_with_write, json={"name": "X"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"


def test_expired_token_is_refused_and_last_use_is_recorded(client, services, users, session):
    with time_machine.travel(T0, tick=False):
        headers = _token(services, "finance", expires_at=T0 + dt.timedelta(days=1))
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    row = session.scalar(select(ApiToken))
    assert row.last_used_at == T0
    with time_machine.travel(T0 + dt.timedelta(days=1, seconds=1), tick=False):
        resp = client.get("/api/v1/me", headers=headers)
    assert resp.status_code == 401 and "expirado" in resp.get_json()["error"]["message"]


def test_admin_creates_lists_and_revokes_a_users_tokens(client, services, login_as, users, session):
    _platform_user(services)
    platform_id = session.scalar(select(User.id).where(User.username == "plataforma"))
    login_as("admin")
    page = client.post(f"/configuracoes/usuarios/{platform_id}/tokens",
                       data={"name": "plataforma B2B", "scopes": list(COMMERCE_SCOPES), "expires_days": "90",
                             "scopes_shown": "1"}).get_data(as_text=True)
    clear = re.search(r'id="new-token">([^<]+)<', page).group(1)
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == platform_id))
    assert row.scopes == list(COMMERCE_SCOPES)
    assert abs(row.expires_at - row.created_at - dt.timedelta(days=90)) < dt.timedelta(seconds=5)
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"})
    listing = client.get(f"/configuracoes/usuarios/{platform_id}/tokens").get_data(as_text=True)
    assert "plataforma B2B" in listing and "commerce:inbound" in listing and "nunca" not in listing
    assert clear not in listing
    resp = client.post(f"/configuracoes/usuarios/{platform_id}/tokens",
                       data={"name": "sem escopo", "scopes_shown": "1"})
    assert resp.status_code == 422 and "Escolha ao menos um escopo" in resp.get_data(as_text=True)
    client.post(f"/configuracoes/usuarios/{platform_id}/tokens/{row.id}/revogar")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"}).status_code == 401
    assert "Revogado" in client.get(f"/configuracoes/usuarios/{platform_id}/tokens").get_data(as_text=True)
    login_as("finance")
    assert client.get(f"/configuracoes/usuarios/{platform_id}/tokens").status_code == 403
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "api_token")).all()
    assert sorted(actions) == ["api_token.create", "api_token.revoke"]


def test_cli_creates_a_commerce_only_token(app, services, users, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-token", "--username", "crm", "--name", "plataforma", "--scope",
                                 "commerce:inbound", "--scope", "commerce:orders", "--expires-days", "30"])
    assert result.exit_code == 0, result.output
    row = session.scalar(select(ApiToken))
    assert row.scopes == ["commerce:inbound", "commerce:orders"] and row.expires_at is not None
    bad = runner.invoke(args=["create-token", "--username", "crm", "--scope", "tudo"])
    assert bad.exit_code != 0 and "Escopo desconhecido: tudo" in bad.output


def test_tokens_made_before_scopes_keep_working_with_every_scope(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "5d1c7e2a9b40")
    engine = make_engine(url)
    with engine.begin() as conn:
        for uid, role in ((1, "admin"), (2, "viewer")):
            conn.execute(text("INSERT INTO users (id, username, name, password_hash, role, active, created_at) "
                              f"VALUES ({uid}, 'u{uid}', 'U', 'x', '{role}', 1, '2026-01-01')"))
            conn.execute(text("INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at) "
                              f"VALUES ({uid}, {uid}, 't', 'h{uid}', 'cd_', '2026-01-01')"))
        conn.execute(text("INSERT INTO audit_events (id, at, user_id, actor, action, entity_type, summary, details) "
                          "VALUES (1, '2026-01-01', 1, 'u1', 'auth.login', 'user', 'Login', '{}')"))
    upgrade(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, scopes FROM api_tokens")).all())
        versions = conn.execute(text("SELECT session_version, must_change_password FROM users")).all()
        audit_user = conn.execute(text("SELECT user_id FROM audit_events")).scalar()
    engine.dispose()
    assert json.loads(rows[1]) == json.loads(rows[2]) == list(SCOPES)  # the viewer's role still limits it
    assert versions == [(0, 0), (0, 0)]
    assert audit_user == 1  # the users table was altered in place, not rebuilt (no cascade, no unlinking)


def test_demo_gives_the_platform_a_commerce_only_token(services, session, tmp_path):
    import os
    import stat

    from app.demo import core as demo_core
    from app.demo import credit as demo_credit

    quiet = {"echo": lambda *_: None}
    demo_core.seed(services, **quiet)
    demo_credit.seed(services, **quiet)
    path = tmp_path / "instance" / demo_credit.TOKEN_FILE
    first = path.read_text().strip()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with services.session_factory() as s:
        assert api_tokens.token_for(s, first).scopes == list(COMMERCE_SCOPES)
    demo_credit.seed(services, **quiet)
    assert path.read_text().strip() == first  # idempotent
    # A token from before scopes existed (every crm scope) is replaced by a commerce-only one.
    with transaction(services.session_factory) as s:
        s.get(ApiToken, api_tokens.token_for(s, first).id).scopes = list(SCOPES)
    demo_credit.seed(services, **quiet)
    second = path.read_text().strip()
    with services.session_factory() as s:
        assert api_tokens.token_for(s, first) is None
        assert api_tokens.token_for(s, second).scopes == list(COMMERCE_SCOPES)
