"""The web's error pages speak pt-BR: 400, 403, 404, 405, 413, 500 and the CSRF refusal, never
Werkzeug's English (its 400 description, "Not Found", "Internal Server Error")."""

from __future__ import annotations

import pytest
from flask import abort

from app import create_app
from app.error_pages import CSRF_MESSAGE

ENGLISH = ("Bad Request", "Not Found", "Forbidden", "Method Not Allowed", "Request Entity Too Large",
           "Content Too Large", "Internal Server Error", "The browser", "The requested URL", "The server",
           "CSRF token", "The CSRF")


def _assert_ptbr(resp, status: int, *phrases: str) -> str:
    page = resp.get_data(as_text=True)
    assert resp.status_code == status
    assert '<html lang="pt-BR">' in page and resp.content_type.startswith("text/html")
    for phrase in phrases:
        assert phrase in page, phrase
    for english in ENGLISH:
        assert english not in page, english
    return page


@pytest.fixture
def error_app(test_config, services):
    app = create_app({**test_config, "MAX_CONTENT_LENGTH": 4096}, services=services)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 page, as in production, not the test's traceback

    @app.route("/_teste/400")
    def _bad_request():
        abort(400)  # Werkzeug's own English description must not reach the page

    @app.route("/_teste/500")
    def _boom():
        raise RuntimeError("boom")

    return app


def test_400_404_405_and_500_pages(error_app, users):
    from tests.conftest import login

    client = error_app.test_client()
    login(client, "viewer")
    _assert_ptbr(client.get("/_teste/400"), 400, "Requisição inválida", "Não foi possível processar a requisição.")
    _assert_ptbr(client.get("/nao-existe"), 404, "Página não encontrada")
    _assert_ptbr(client.get(f"/titulos/{2**63}"), 404, "Página não encontrada")
    _assert_ptbr(client.get("/logout"), 405, "Operação não permitida")
    _assert_ptbr(client.get("/_teste/500"), 500, "Erro inesperado", "Algo deu errado do nosso lado")


def test_403_page(error_app, users):
    from tests.conftest import login

    client = error_app.test_client()
    login(client, "viewer")
    _assert_ptbr(client.get("/configuracoes/usuarios"), 403, "Acesso negado", "Seu perfil não permite")


def test_413_page(error_app, users):
    client = error_app.test_client()
    resp = client.post("/login", data={"username": "x" * 10_000, "password": "y"})
    _assert_ptbr(resp, 413, "Arquivo ou requisição grande demais.")


def test_csrf_refusal_is_ptbr(test_config, services, users):
    app = create_app({**test_config, "WTF_CSRF_ENABLED": True}, services=services)
    client = app.test_client()
    page = _assert_ptbr(client.post("/login", data={"username": "admin", "password": "x"}), 400, CSRF_MESSAGE)
    assert "token de segurança CSRF ausente ou inválido" in page
