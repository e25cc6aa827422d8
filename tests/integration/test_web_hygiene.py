"""Hygiene: one safe-redirect helper for every `next=`, no-store and HSTS headers, LIKE wildcards
escaped in searches, bounded limits and pages, and instance files created 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from app import create_app
from app.config import load_config
from app.db import make_engine, transaction
from app.models import AuditEvent, CollectionRun
from app.safe_redirect import safe_next
from app.services.credit import purchases

from .credit_support import CPF, FINANCE, make_branch, make_client, set_policy

EVIL = ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/evil.example", "javascript:alert(1)",
        "https://localhost.evil.example/", "\t//evil.example", "evil.example/x"]


# --- safe redirects ----------------------------------------------------------------------------
@pytest.mark.parametrize("target", EVIL)
def test_safe_next_refuses_other_sites(target):
    app = Flask(__name__)
    with app.test_request_context(base_url="http://localhost"):
        assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize(("target", "expected"), [
    ("/credito/reservas?page=2", "/credito/reservas?page=2"),
    ("http://localhost/crm/clientes/?q=a#x", "/crm/clientes/?q=a#x"),
    ("", "/fallback"), (None, "/fallback"),
])
def test_safe_next_keeps_paths_of_this_site(target, expected):
    app = Flask(__name__)
    with app.test_request_context(base_url="http://localhost"):
        assert safe_next(target, "/fallback") == expected


@pytest.fixture
def reservation_id(services):
    branch_id = make_branch(services)
    set_policy(services, branch_id)
    make_client(services, branch_id, limit="1000.00")
    ids = []
    for ref in ("PED_1", "PEDX1"):
        with transaction(services.session_factory) as s:
            ids.append(purchases.authorise(s, FINANCE, branch_id=branch_id, document=CPF, amount="100.00",
                                           method="boleto_faturado", order_ref=ref).reservation.id)
    return ids[0]


@pytest.mark.parametrize("action", ["cancelar", "faturar", "alterar"])
def test_reservation_actions_do_not_redirect_off_site(client, login_as, reservation_id, action):
    login_as("finance")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        resp = client.post(f"/credito/reservas/{reservation_id}/{action}",
                           data={"next": target, "amount": "50,00", "reason": "teste", "installment_term": "28"})
        # Done: back to the list; refused (e.g. already cancelled): the list again, its `next` ours.
        if resp.status_code == 302:
            assert resp.headers["Location"] == "/credito/reservas", (action, target)
        else:
            page = resp.get_data(as_text=True)
            assert resp.status_code == 422 and 'name="next" value="/credito/reservas"' in page, (action, target)
            assert "evil.example" not in page
    resp = client.post(f"/credito/reservas/{reservation_id}/{action}", data={"next": "/credito/reservas?page=1"})
    assert resp.status_code == 422  # nothing to do twice, or fields missing: the list with the message
    assert 'name="next" value="/credito/reservas?page=1"' in resp.get_data(as_text=True)


def test_consultation_next_is_safe(client, login_as, services):
    from .crm_helpers import make_branch as crm_branch
    from .crm_helpers import make_party

    lead = make_party(services, crm_branch(services))
    login_as("crm")
    # An invalid purpose is refused (DomainError): the view goes back to `next`, or to the history.
    resp = client.post(f"/crm/cadastros/{lead}/consultar", data={"next": "https://evil.example/", "purpose": "x"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/crm/cadastros/{lead}/consultas"


# --- headers -----------------------------------------------------------------------------------
def test_no_store_on_pages_exports_and_api_but_not_static(client, login_as, api_token):
    login_as("admin")
    for url in ("/crm/clientes/", "/auditoria/", "/auditoria/exportar.csv", "/credito/contas/exportar.csv"):
        with client.get(url) as resp:
            assert resp.status_code == 200, url
            assert resp.headers["Cache-Control"] == "no-store", url
    assert client.get("/api/v1/me", headers=api_token("viewer")).headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"  # 401 too
    with client.get("/static/app.css") as static:  # a file response: close it
        assert "no-store" not in (static.headers.get("Cache-Control") or "")


def test_hsts_only_in_production(test_config, services):
    dev = create_app(test_config, services=services).test_client()
    assert "Strict-Transport-Security" not in dev.get("/login").headers
    prod = create_app({**test_config, "ENV_NAME": "production"}, services=services).test_client()
    assert prod.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# --- LIKE wildcards ----------------------------------------------------------------------------
def test_audit_action_filter_treats_percent_literally(client, login_as, session):
    login_as("admin")  # writes an auth.login event
    assert session.query(AuditEvent).count() >= 1
    page = client.get("/auditoria/?action=%25").get_data(as_text=True)
    assert "auth.login" not in page
    assert "auth.login" in client.get("/auditoria/?action=auth.").get_data(as_text=True)
    assert "auth.login" not in client.get("/auditoria/?action=auth_").get_data(as_text=True)


def test_reservation_search_treats_wildcards_literally(client, login_as, reservation_id):
    login_as("finance")
    assert "PED_1" not in client.get("/credito/reservas?q=%25").get_data(as_text=True)
    page = client.get("/credito/reservas?q=PED_").get_data(as_text=True)
    assert "PED_1" in page and "PEDX1" not in page


# --- bounds ------------------------------------------------------------------------------------
def test_limits_and_pages_are_bounded(client, services, api_token, login_as):
    branch_id = make_branch(services)
    with transaction(services.session_factory) as s:
        for _ in range(3):
            s.add(CollectionRun(branch_id=branch_id, trigger="api", requested_by="t", days_to_execute=60))
    finance = api_token("finance")
    # The API's schema refuses a limit out of its documented range (JSON 422); a valid one is obeyed.
    for raw in ("-1", "0", "x", "99999999999999999999"):
        resp = client.get(f"/api/v1/collections/runs?limit={raw}", headers=finance)
        assert resp.status_code == 422 and resp.get_json()["error"]["fields"]["limit"], raw
    assert len(client.get("/api/v1/collections/runs?limit=2", headers=finance).get_json()["items"]) == 2
    assert client.get("/api/v1/negativations?limit=0", headers=finance).status_code == 422
    login_as("admin")
    for url in ("/auditoria/?page=99999999999999999999999", "/auditoria/?per_page=-5", "/credito/reservas?page=-3"):
        assert client.get(url).status_code == 200, url


# --- file permissions --------------------------------------------------------------------------
def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sqlite_file_is_created_private(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "instance" / "credit-desk.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x int)"))
        engine.dispose()
    finally:
        os.umask(old)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700


def test_instance_keys_are_created_private(tmp_path, monkeypatch):
    """Private from the moment they exist: not written world-readable and chmod-ed afterwards."""
    monkeypatch.setattr(Path, "chmod", lambda self, mode: None)
    for var in ("SECRET_KEY", "ENCRYPTION_KEY", "CREDITDESK_ENV"):
        monkeypatch.delenv(var, raising=False)
    old = os.umask(0o022)
    try:
        cfg = load_config({"INSTANCE_DIR": str(tmp_path / "inst")})
    finally:
        os.umask(old)
    for name in ("secret_key", "encryption_key"):
        assert _mode(tmp_path / "inst" / name) == 0o600
    assert cfg["SECRET_KEY"] == (tmp_path / "inst" / "secret_key").read_text()
    assert load_config({"INSTANCE_DIR": str(tmp_path / "inst")})["SECRET_KEY"] == cfg["SECRET_KEY"]
