"""Daily flows in Chromium: negativate by hand with a reason, remove by hand, Simular and
Executar agora, bulk negativation, and paying a title until its negativation is "Baixada" with
its legal deadline. Each flow is walked by clicks from the page a person lands on after login."""

from __future__ import annotations

import pytest

from app.services.collections.routine import run_queued
from app.services.core.clock import today_br
from app.services.negativations.inclusion import negativate_titles
from tests.e2e.flows_support import accept_confirmations, finance_world, sqlite_only
from tests.integration.titles_support import FINANCE

pytestmark = pytest.mark.browser


def test_negativate_by_hand_then_remove_by_hand(page, live_server, users, services, backend, fake_bureau):
    sqlite_only(backend)
    confirmations = accept_confirmations(page)
    _, [party_id], ids = finance_world(services, page, live_server)
    page.click("#main-menu >> text=Clientes")
    page.click("text=Cliente 0")
    page.click("a:has-text('Negativação de crédito')")  # the client's tab
    page.click("a:has-text('Incluir')")
    page.select_option("#f-restriction", "12")  # the bureau's reasons, fetched when the form opens
    page.check(f"input[name=title_ids][value='{ids['T-60']}']")
    page.click("button:has-text('Enviar ao bureau')")
    assert "enviada com sucesso" in page.inner_text(".alert-success")
    assert "Mensalidade em atraso" in page.inner_text("dl.facts")  # the code with its description
    page.click("main p.muted >> text=Cliente 0")  # back to the client's negativations
    page.click("a:has-text('Remover negativação')")
    page.check("input[name=ids]")
    page.select_option("#f-reason", "error_correction")
    page.fill("#f-note", "lançado em duplicidade")
    page.click("button:has-text('Remover negativação')")
    assert "baixada" in page.inner_text(".alert-success").lower()
    assert len(confirmations) == 2  # "Enviar a negativação ao bureau?", "Remover as negativações selecionadas?"


def test_simulate_then_execute_now(page, live_server, users, services, backend, fake_bureau):
    sqlite_only(backend)
    page.on("dialog", lambda dialog: dialog.accept())
    finance_world(services, page, live_server)
    page.click("text=Rotina de cobrança")
    page.click("button:has-text('Simular')")
    assert "Simulação concluída" in page.inner_text(".alert-success")
    assert "negativação prevista (2 títulos)" in page.inner_text(".cards")
    page.click("text=Todas as execuções")
    page.click("button:has-text('Executar agora')")
    assert "na fila" in page.inner_text(".alert-success")
    run_queued(services)  # the scheduler's next tick
    page.reload()
    assert "negativação incluída (2 títulos)" in page.inner_text(".cards")


def test_bulk_negativation(page, live_server, users, services, backend, fake_bureau):
    sqlite_only(backend)
    page.on("dialog", lambda dialog: dialog.accept())
    finance_world(services, page, live_server, clients=2, titles=(("T-59", 59), ("T-FUT", -3)))
    page.click("text=Títulos")
    page.check("th input[data-select-all=title_ids]")  # every overdue title on the page
    page.click("button:has-text('Negativar selecionados')")
    assert "2 títulos serão enviados" in page.inner_text(".card")
    page.click("button:has-text('Negativar 2 títulos')")
    alerts = page.inner_text("main")
    assert "Cliente 0: Negativação nº" in alerts and "Cliente 1: Negativação nº" in alerts


def test_pay_a_title_and_see_it_removed_with_its_legal_deadline(page, live_server, users, services, backend,
                                                                fake_bureau):
    sqlite_only(backend)
    _, [party_id], ids = finance_world(services, page, live_server)
    negativate_titles(services, FINANCE, party_id, [ids["T-60"]], "12", today=today_br())
    fake_bureau.activate("N-000001")
    page.click("#main-menu >> text=Títulos")
    page.click("table.grid >> text=T-60")
    page.click("button:has-text('Registrar pagamento')")  # the open amount and today are filled in
    assert "Saldo em aberto: R$ 0,00" in page.inner_text("main")
    # The title page itself shows its negativation, "Baixada", and the legal deadline it was met by.
    history = page.inner_text("#title-negativations")
    assert "Baixada" in history and "Prazo cumprido" in history
    page.click("#title-negativations >> text=1")
    facts = page.inner_text("dl.facts")
    assert "Baixada" in page.inner_text("h1") and "Prazo legal de baixa" in facts and "Prazo cumprido" in facts
    # Printed, the page says whose it is and when; the menu and the buttons stay off the paper.
    # The DOM is read before the stylesheets have loaded on a busy machine: wait for them first.
    page.wait_for_load_state("load")
    assert not page.is_visible(".print-header")
    page.emulate_media(media="print")
    assert page.is_visible(".print-header") and not page.is_visible(".topbar")
    assert page.inner_text(".print-header").startswith("Filial Matriz · CNPJ 11.222.333/0001-81")
