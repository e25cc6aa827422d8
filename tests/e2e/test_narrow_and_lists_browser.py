"""Daily flows in Chromium: the menu at 390 px, and searching, filtering and exporting titles and
negativations. Clicks per flow are counted in the closing note of issue 14."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.services.core.clock import today_br
from app.services.negativations.inclusion import negativate_titles
from tests.e2e.flows_support import finance_world, page_width, sqlite_only
from tests.integration.titles_support import FINANCE

pytestmark = pytest.mark.browser


def test_menu_and_tables_at_390px(page, live_server, users, services, backend, fake_bureau):
    sqlite_only(backend)
    page.set_viewport_size({"width": 390, "height": 844})
    _, [party_id], ids = finance_world(services, page, live_server)
    negativate_titles(services, FINANCE, party_id, [ids["T-60"]], "12", today=today_br())
    assert not page.is_visible("#main-menu")  # folded behind the button
    page.click("button.menu-toggle")  # 1 click: the menu opens
    assert page.is_visible("#main-menu")
    page.click("#main-menu >> text=Títulos")
    for path in ("/", "/titulos/", "/negativacoes/", "/negativacoes/1", f"/clientes/{party_id}/titulos",
                 f"/titulos/{ids['T-60']}", "/crm/clientes/", f"/crm/cadastros/{party_id}/dados",
                 f"/clientes/{party_id}/negativacoes/incluir", "/cobranca/execucoes", "/cobranca/painel",
                 "/credito/contas", "/credito/simular", "/credito/reservas", "/credito/importacoes-de-clientes/"):
        page.goto(live_server + path)
        scroll, viewport = page_width(page)
        assert scroll <= viewport, f"{path} is {scroll}px wide at {viewport}px"
    page.goto(live_server + "/titulos/")
    table = page.locator("table.grid").first
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")  # the table scrolls inside itself


def test_search_filter_and_export_titles_and_negativations(page, live_server, users, services, backend,
                                                           fake_bureau):
    sqlite_only(backend)
    _, [party_id], ids = finance_world(services, page, live_server)
    negativate_titles(services, FINANCE, party_id, [ids["T-120"]], "12", today=today_br())
    page.click("text=Títulos")
    page.fill("#f-q", "cliente 0")  # the client's name, any case
    page.select_option("#f-aging", "31-60")
    start = today_br() - dt.timedelta(days=200)
    page.type("#f-due-from", start.strftime("%d%m%Y"))  # digits only: the field adds the slashes
    assert page.input_value("#f-due-from") == start.strftime("%d/%m/%Y")
    page.click("button:has-text('Filtrar')")
    rows = page.inner_text("table.grid tbody")
    assert "T-59" in rows and "T-60" in rows and "T-120" not in rows
    with page.expect_download() as download:
        page.click("text=Exportar CSV")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert [line.split(";")[3] for line in text.strip().splitlines()[1:]] == ["T-60", "T-59"]
    page.click("text=Negativações")
    page.fill("#f-client", "cliente")
    page.select_option("#f-origin", "manual")
    page.click("button:has-text('Filtrar')")
    assert "Cliente 0" in page.inner_text("table.grid tbody")
    with page.expect_download() as download:
        page.click("text=Exportar CSV")
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and ";Manual;" in lines[1]
