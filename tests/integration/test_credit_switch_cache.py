"""The credit-analysis switch as pages read it (app.credit_switch): one read per app every
CACHE_SECONDS. A change through this app shows on the next page; one made elsewhere (another
worker, the CLI) shows once the copy is older than CACHE_SECONDS, never later."""

from __future__ import annotations

import pytest

from app import credit_switch
from app.services.core.audit import Actor
from app.services.settings import switches
from tests.conftest import login

MENU_ENTRY = ">Negativações<"


@pytest.fixture
def clock(monkeypatch):
    """The cache's monotonic clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(credit_switch.time, "monotonic", lambda: now[0])
    return now


def _set_elsewhere(services, enabled: bool) -> None:
    """As the CLI or another web worker does: straight to the database, not through this app."""
    with services.session_factory() as s:
        switches.set_credit_analysis(s, Actor.system("test"), enabled)
        s.commit()


def test_a_change_made_elsewhere_shows_within_the_cache_window(client, users, services, clock):
    login(client, "admin")
    assert MENU_ENTRY in client.get("/").get_data(as_text=True)
    _set_elsewhere(services, False)
    clock[0] += credit_switch.CACHE_SECONDS - 0.1
    assert MENU_ENTRY in client.get("/").get_data(as_text=True)  # this app's copy is still young
    clock[0] += 0.2
    assert MENU_ENTRY not in client.get("/").get_data(as_text=True)
    assert client.get("/negativacoes/").status_code == 302  # and the screens it gates refuse


def test_a_change_through_this_app_shows_at_once(client, users, services, clock):
    login(client, "admin")
    assert MENU_ENTRY in client.get("/").get_data(as_text=True)
    page = client.get("/configuracoes/parametros")
    assert page.status_code == 200
    client.post("/configuracoes/parametros", data={"credit_analysis_enabled": "nao"})
    assert MENU_ENTRY not in client.get("/").get_data(as_text=True)  # no time has passed
    client.post("/configuracoes/parametros", data={"credit_analysis_enabled": "sim"})
    assert MENU_ENTRY in client.get("/").get_data(as_text=True)


def test_the_settings_api_drops_the_copy_too(client, users, services, clock, api_token):
    login(client, "admin")
    assert MENU_ENTRY in client.get("/").get_data(as_text=True)
    resp = client.put("/api/v1/settings/credit-analysis", json={"enabled": False}, headers=api_token("admin"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert MENU_ENTRY not in client.get("/").get_data(as_text=True)


def test_pages_read_the_switch_once_per_window(client, users, services, clock, monkeypatch):
    login(client, "admin")
    reads = []
    real = switches.credit_analysis_enabled
    monkeypatch.setattr(credit_switch.switches, "credit_analysis_enabled", lambda s: reads.append(1) or real(s))
    for _ in range(5):
        client.get("/titulos/")
    assert len(reads) == 1
    clock[0] += credit_switch.CACHE_SECONDS
    client.get("/titulos/")
    assert len(reads) == 2
