"""The collections panel's position kept per web process (app.web.dashboard.position): the same
figures for DASHBOARD_CACHE_SECONDS with the position's time on the page, "atualizar agora"
computing them again, each branch filter its own position, and none of the aggregate queries run
while the position is kept."""

from __future__ import annotations

import pytest
from sqlalchemy import event, update

from app.models import Negativation
from tests.integration.test_dashboard import pinned_today, portfolio  # noqa: F401 - fixtures

PENDING_5, PENDING_4 = "<title>Baixa pendente: 5</title>", "<title>Baixa pendente: 4</title>"


@pytest.fixture
def test_config(test_config):
    return {**test_config, "DASHBOARD_CACHE_SECONDS": 60}


@pytest.fixture
def clock(monkeypatch):
    now = [5000.0]
    monkeypatch.setattr("app.web.dashboard.time.monotonic", lambda: now[0])
    return now


def _remove_one_elsewhere(services, negativation_id: int) -> None:
    """What the routine or another web worker does meanwhile: one pending removal confirmed."""
    with services.session_factory() as s:
        s.execute(update(Negativation).where(Negativation.id == negativation_id).values(status="removed"))
        s.commit()


def test_the_position_is_kept_shown_with_its_time_and_refreshed_on_request(
        services, portfolio, login_as, pinned_today, clock):  # noqa: F811
    client = login_as("finance")
    html = client.get("/cobranca/painel").get_data(as_text=True)
    assert PENDING_5 in html
    assert "Posição em 16/03/2026 09:30" in html and "atualizar=1" in html
    _remove_one_elsewhere(services, portfolio["m6"])
    clock[0] += 59
    assert PENDING_5 in client.get("/cobranca/painel").get_data(as_text=True)  # kept
    assert PENDING_4 in client.get("/cobranca/painel?atualizar=1").get_data(as_text=True)  # asked for
    _remove_one_elsewhere(services, portfolio["m5"])
    clock[0] += 60
    assert "<title>Baixa pendente: 3</title>" in client.get("/cobranca/painel").get_data(as_text=True)  # expired


def test_each_branch_filter_has_its_own_position(services, portfolio, login_as, pinned_today, clock):  # noqa: F811
    client = login_as("finance")
    assert "R$ 2.830,00" in client.get("/cobranca/painel").get_data(as_text=True)
    html = client.get(f"/cobranca/painel?branch_id={portfolio['rj']}").get_data(as_text=True)
    assert "R$ 170,00" in html and "R$ 2.830,00" not in html


def test_a_kept_position_runs_no_aggregate_query(services, portfolio, login_as, pinned_today, clock):  # noqa: F811
    client = login_as("finance")
    client.get("/cobranca/painel")
    statements: list[str] = []
    engine = services.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/cobranca/painel")
        kept = list(statements)
        statements.clear()
        client.get("/cobranca/painel?atualizar=1")
        computed = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert not any("negativation_titles" in s for s in kept), kept
    assert len(computed) >= len(kept) + 5, (len(kept), len(computed))
