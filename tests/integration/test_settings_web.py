"""Settings pages: roles, CSRF, the encrypted secret, codes, connection test, the global switch, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Branch, BureauIntegration
from integrations.bureau import AuthenticationError, BureauUnavailable
from tests.conftest import csrf_from, login

SECRET = "s3cr3t-do-contrato-XYZ"


def new_integration(client, **overrides):
    data = {"name": "CNM Matriz", "environment": "homologacao", "base_url": "", "client_id": "cid-1",
            "client_secret": SECRET, "auto_include_remove": "nao"}
    data.update(overrides)
    return client.post("/configuracoes/integracoes/nova", data=data)


@pytest.mark.parametrize("role", ["finance", "crm", "viewer"])
def test_only_admin_reaches_integration_settings(client, users, role):
    login(client, role)
    assert client.get("/configuracoes/integracoes").status_code == 403
    assert new_integration(client).status_code == 403
    assert client.get("/configuracoes/parametros").status_code == 403


def test_anonymous_is_sent_to_login(client, users):
    resp = client.get("/configuracoes/integracoes")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_create_integration_encrypts_secret_and_never_shows_it(client, users, session, services):
    login(client, "admin")
    resp = new_integration(client)
    assert resp.status_code == 302
    integration = session.scalars(select(BureauIntegration)).one()
    assert integration.base_url == "http://127.0.0.1:5999"  # homologação defaults to the simulator
    assert SECRET not in integration.client_secret_encrypted
    assert services.box.decrypt(integration.client_secret_encrypted) == SECRET
    for url in ("/configuracoes/integracoes", f"/configuracoes/integracoes/{integration.id}", "/auditoria/",
                "/auditoria/exportar.csv"):
        body = client.get(url).get_data(as_text=True)
        assert SECRET not in body, url
        assert integration.client_secret_encrypted not in body, url
    page = client.get(f"/configuracoes/integracoes/{integration.id}").get_data(as_text=True)
    assert "Gerado na primeira consulta" in page
    assert "não tem ambiente de homologação" in page


def test_missing_secret_is_refused_and_nothing_is_saved(client, users, session):
    login(client, "admin")
    resp = new_integration(client, client_secret="")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Informe o client_secret" in html
    assert session.scalars(select(BureauIntegration)).all() == []


def test_production_requires_https(client, users, session):
    login(client, "admin")
    html = new_integration(client, environment="producao", base_url="http://api.example.com").get_data(as_text=True)
    assert "deve usar https" in html
    assert session.scalars(select(BureauIntegration)).all() == []


def test_blank_secret_on_edit_keeps_the_old_one_and_clears_token(client, users, session, services):
    login(client, "admin")
    new_integration(client)
    integration = session.scalars(select(BureauIntegration)).one()
    integration.access_token_encrypted = services.box.encrypt("old-token")
    session.commit()
    resp = client.post(f"/configuracoes/integracoes/{integration.id}", data={
        "name": "CNM Matriz 2", "environment": "homologacao", "base_url": "http://127.0.0.1:5999",
        "client_id": "cid-1", "client_secret": "", "auto_include_remove": "nao"})
    assert resp.status_code == 302
    session.expire_all()
    integration = session.get(BureauIntegration, integration.id)
    assert integration.name == "CNM Matriz 2"
    assert services.box.decrypt(integration.client_secret_encrypted) == SECRET
    assert integration.access_token_encrypted is not None  # same credentials: token kept
    resp = client.post(f"/configuracoes/integracoes/{integration.id}", data={
        "name": "CNM Matriz 2", "environment": "homologacao", "base_url": "http://127.0.0.1:5999",
        "client_id": "cid-2", "client_secret": "", "auto_include_remove": "nao"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    session.expire_all()
    assert session.get(BureauIntegration, integration.id).access_token_encrypted is None


def test_automatic_mode_needs_fetched_codes_then_one_per_person_type(client, users, session, fake_bureau):
    login(client, "admin")
    new_integration(client)
    iid = session.scalars(select(BureauIntegration.id)).one()
    form = {"name": "CNM", "environment": "homologacao", "base_url": "http://127.0.0.1:5999", "client_id": "cid-1",
            "auto_include_remove": "sim", "restriction_code_pf": "12", "restriction_code_pj": "22"}
    html = client.post(f"/configuracoes/integracoes/{iid}", data=form).get_data(as_text=True)
    assert "Buscar códigos" in html and "depois ative" in html
    session.expire_all()
    assert session.get(BureauIntegration, iid).auto_include_remove is False

    resp = client.post(f"/configuracoes/integracoes/{iid}/buscar-codigos", follow_redirects=True)
    assert "2 para CPF e 1 para CNPJ" in resp.get_data(as_text=True)
    assert [a for a in fake_bureau.calls_to("restriction_reasons")] == [("PF",), ("PJ",)]
    page = client.get(f"/configuracoes/integracoes/{iid}").get_data(as_text=True)
    assert "12 — Mensalidade em atraso" in page
    assert "90 — Pagamento" not in page  # removal codes are not restriction choices

    bad = dict(form, restriction_code_pj="12")  # a PF code for PJ
    assert "pessoa jurídica" in client.post(f"/configuracoes/integracoes/{iid}", data=bad).get_data(as_text=True)
    assert client.post(f"/configuracoes/integracoes/{iid}", data=form).status_code == 302
    session.expire_all()
    saved = session.get(BureauIntegration, iid)
    assert (saved.auto_include_remove, saved.restriction_code_pf, saved.restriction_code_pj) == (True, "12", "22")


def test_connection_test_reports_success_and_failure_plainly(client, users, session, fake_bureau):
    login(client, "admin")
    new_integration(client)
    iid = session.scalars(select(BureauIntegration.id)).one()
    ok = client.post(f"/configuracoes/integracoes/{iid}/testar", follow_redirects=True).get_data(as_text=True)
    assert "Conexão bem-sucedida" in ok
    fake_bureau.fail_next(AuthenticationError("invalid_client", status=401, code="invalid_client"))
    bad = client.post(f"/configuracoes/integracoes/{iid}/testar", follow_redirects=True).get_data(as_text=True)
    assert "Falha na conexão" in bad and "credenciais" in bad
    fake_bureau.fail_next(BureauUnavailable("down"))
    down = client.post(f"/configuracoes/integracoes/{iid}/testar", follow_redirects=True).get_data(as_text=True)
    assert "indisponível" in down
    session.expire_all()
    assert session.get(BureauIntegration, iid).last_test_ok is False


def test_settings_changes_are_audited_without_the_secret(client, users, session):
    login(client, "admin")
    new_integration(client)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("integration.%"))).all()
    assert [e.action for e in events] == ["integration.create"]
    assert events[0].actor == "admin"
    assert SECRET not in str(events[0].details)
    assert events[0].details["changes"]["client_id"] == [None, "cid-1"]
    assert events[0].details["changes"]["client_secret"] == "(alterado)"


def test_global_switch_hides_credit_ui_and_refuses_routes(client, users, session, api_token):
    login(client, "admin")
    assert ">Integrações<" in client.get("/").get_data(as_text=True)
    client.post("/configuracoes/parametros", data={"credit_analysis_enabled": "nao"})
    home = client.get("/").get_data(as_text=True)
    assert ">Integrações<" not in home
    assert "desativada" in home
    headers = api_token("admin")
    assert client.get("/api/v1/settings/credit-analysis", headers=headers).get_json() == {"enabled": False}
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.credit_analysis")).one()
    assert event.details == {"enabled": [True, False]}
    client.post("/configuracoes/parametros", data={"credit_analysis_enabled": "sim"})
    assert ">Integrações<" in client.get("/").get_data(as_text=True)


def test_branch_crud_validates_cnpj(client, users, session):
    login(client, "admin")
    bad = client.post("/configuracoes/filiais/nova", data={"name": "X", "cnpj": "11.222.333/0001-80", "active": "y"})
    assert "CNPJ inválido" in bad.get_data(as_text=True)
    assert session.scalars(select(Branch)).all() == []
    ok = client.post("/configuracoes/filiais/nova", data={
        "name": "Filial Alfa", "cnpj": "12.abc.345/01de-35", "state": "sp", "zip": "01310-100", "active": "y"})
    assert ok.status_code == 302
    branch = session.scalars(select(Branch)).one()
    assert (branch.cnpj, branch.state, branch.zip) == ("12ABC34501DE35", "SP", "01310100")
    dup = client.post("/configuracoes/filiais/nova", data={"name": "Outra", "cnpj": "12ABC34501DE35"})
    assert "Já existe uma filial" in dup.get_data(as_text=True)


def test_finance_sees_branches_but_cannot_edit(client, users):
    login(client, "finance")
    assert client.get("/configuracoes/filiais/").status_code == 200
    assert client.post("/configuracoes/filiais/nova", data={"name": "X", "cnpj": "11222333000181"}).status_code == 403


@pytest.fixture
def csrf_client(app, users):
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client()


def test_csrf_is_enforced_on_forms(csrf_client, session):
    c = csrf_client
    page = c.get("/login").get_data(as_text=True)
    assert c.post("/login", data={"username": "admin", "password": "x"}).status_code == 400
    token = csrf_from(page)
    from tests.conftest import PASSWORD

    assert c.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}).status_code == 302
    form = c.get("/configuracoes/filiais/nova").get_data(as_text=True)
    assert c.post("/configuracoes/filiais/nova", data={"name": "X", "cnpj": "11222333000181"}).status_code == 400
    assert session.scalars(select(Branch)).all() == []
    resp = c.post("/configuracoes/filiais/nova",
                  data={"name": "X", "cnpj": "11222333000181", "csrf_token": csrf_from(form)})
    assert resp.status_code == 302


def test_login_rejects_wrong_password_and_open_redirects(client, users):
    resp = client.post("/login", data={"username": "admin", "password": "errada"})
    assert "Usuário ou senha incorretos" in resp.get_data(as_text=True)
    resp = client.post("/login?next=https://evil.example/x",
                       data={"username": "admin", "password": "senha-de-teste-123"})
    assert resp.headers["Location"] == "/"


def test_session_cookie_is_httponly(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
