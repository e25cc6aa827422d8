"""In Chromium: "Excluir integração" asks first, like every other destructive action; answering
"Cancelar" keeps the integration."""

from __future__ import annotations

import pytest

from app.db import transaction
from app.models import BureauIntegration
from app.services.settings import bureau_integrations as bureau_settings
from tests.conftest import PASSWORD
from tests.e2e.conftest import browser_login
from tests.integration.crm_helpers import TEST_ACTOR

pytestmark = pytest.mark.browser


def test_deleting_an_integration_asks_first(page, live_server, users, services):
    with transaction(services.session_factory) as s:
        integration_id = bureau_settings.save_integration(s, services.box, TEST_ACTOR, bureau_settings.IntegrationInput(
            name="CnM Teste", environment="homologacao", base_url="http://127.0.0.1:5999", client_id="c",
            client_secret="s", auto_include_remove=False)).id
    browser_login(page, live_server, "admin", PASSWORD)
    page.goto(f"{live_server}/configuracoes/integracoes/{integration_id}")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.click("button:has-text('Excluir integração')")
    assert questions and questions[0].startswith("Excluir a integração CnM Teste?")
    with services.session_factory() as s:
        assert s.get(BureauIntegration, integration_id) is not None  # "Cancelar" kept it
    page.once("dialog", lambda d: answer(d, True))
    page.click("button:has-text('Excluir integração')")
    page.wait_for_url("**/configuracoes/integracoes")
    assert "Integração excluída." in page.inner_text(".alert-success")
