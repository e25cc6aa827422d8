"""As admin in a real browser, in the order of the provider's manual: configure an integration
against the simulator, save it, fetch the restriction codes, test it, choose the PF and PJ codes,
link it to a branch; then switch credit analysis off and see the credit UI disappear."""

from __future__ import annotations

import pytest

from app.bootstrap import real_bureau_factory
from integrations.simulator import SimulatorConfig
from integrations.simulator.server import start_in_thread
from tests.conftest import PASSWORD
from tests.e2e.conftest import browser_login

pytestmark = pytest.mark.browser


@pytest.fixture
def simulator_url():
    url, stop = start_in_thread(SimulatorConfig(request_log=False))
    yield url
    stop()


@pytest.fixture
def services(test_config, db, simulator_url):
    # The real client against the simulator, as in `make demo`.
    from app.bootstrap import bootstrap

    engine, _ = db
    cfg = dict(test_config, SIMULATOR_URL=simulator_url)
    svc = bootstrap(cfg, engine=engine)
    svc.bureau_factory = real_bureau_factory(cfg, engine, svc.box)
    return svc


@pytest.fixture
def test_config(db, tmp_path, simulator_url):
    _, url = db
    return {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "k", "INSTANCE_DIR": str(tmp_path),
            "ENCRYPTION_KEY": "x3Yb0Yl1E6k3yqI3jQyq7pVDZ2Qn6Rk3GfV0yq2YF6o=", "SIMULATOR_URL": simulator_url,
            "WTF_CSRF_ENABLED": True}


def test_admin_configures_integration_and_toggles_credit_analysis(page, live_server, users, backend):
    if backend != "sqlite":
        pytest.skip("one browser run is enough; the database layer is covered on both backends elsewhere")
    browser_login(page, live_server, "admin", PASSWORD)
    page.click("text=Integrações")
    page.click("text=Nova")
    page.fill("#f-name", "Crédito na Medida — Matriz")
    page.select_option("#f-environment", "homologacao")
    page.fill("#f-client_id", "demo-client")
    page.fill("#f-client_secret", "demo-secret")
    page.click("button:has-text('Salvar')")
    assert "Integração salva" in page.inner_text(".alert-success")

    page.click("button:has-text('Buscar códigos')")
    assert "Códigos de restrição recebidos do bureau" in page.inner_text(".alert-success")
    page.click("button:has-text('Testar conexão')")
    assert "Conexão bem-sucedida" in page.inner_text(".alert-success")
    assert "demo-secret" not in page.content()

    page.select_option("#f-auto", "sim")
    page.select_option("#f-restriction_code_pf", index=1)
    page.select_option("#f-restriction_code_pj", index=1)
    page.click("button:has-text('Salvar')")
    assert "Integração salva" in page.inner_text(".alert-success")
    assert page.input_value("#f-auto") == "sim"

    # Then, as the manual says, the integration is linked to the branch.
    page.click("nav.menu >> text=Filiais")
    page.click("text=Nova filial")
    page.fill("#f-name", "Matriz")
    page.fill("#f-cnpj", "11.222.333/0001-81")
    page.fill("#f-state", "SP")
    page.select_option("#f-bureau_integration_id", label="Crédito na Medida — Matriz")
    page.click("button:has-text('Salvar')")
    assert "Crédito na Medida — Matriz" in page.inner_text("table.grid tbody")

    page.click("nav.menu >> text=Parâmetros")
    page.select_option("#f-credit", "nao")
    page.click("button:has-text('Salvar')")
    assert "desativada" in page.inner_text(".alert-success")
    assert page.locator("nav.menu >> text=Integrações").count() == 0
    page.goto(f"{live_server}/configuracoes/integracoes")
    assert page.url.endswith("/configuracoes/integracoes")  # admin page stays reachable to turn it back
