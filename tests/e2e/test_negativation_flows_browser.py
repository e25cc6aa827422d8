"""Daily flows in Chromium: negativate by hand with a reason, remove by hand, Simular and
Executar agora, bulk negativation, and paying a title until its negativation is "Baixada" with
its legal deadline. Each flow's clicks are counted in the closing note of issue 14."""

from __future__ import annotations

import pytest

from app.services.collections.routine import run_queued
from app.services.core.clock import today_br
from app.services.negativations.inclusion import negativate_titles
from tests.e2e.flows_support import finance_world, sqlite_only
from tests.integration.titles_support import FINANCE

pytestmark = pytest.mark.browser


def test_negativate_by_hand_then_remove_by_hand(page, live_server, users, services, backend, fake_bureau):
    sqlite_only(backend)
    page.on("dialog", lambda dialog: dialog.accept())
    _, [party_id], ids = finance_world(services, page, live_server)
    page.goto(f"{live_server}/clientes/{party_id}/negativacoes/incluir?buscar=1")
    page.select_option("#f-restriction", "12")
    page.check(f"input[name=title_ids][value='{ids['T-60']}']")
    page.click("button:has-text('Enviar ao bureau')")
    assert "enviada com sucesso" in page.inner_text(".alert-success")
    assert "Mensalidade em atraso" in page.inner_text("dl.facts")  # the code with its description
    page.goto(f"{live_server}/clientes/{party_id}/negativacoes/remover")
    page.check("input[name=ids]")
    page.select_option("#f-reason", "error_correction")
    page.fill("#f-note", "lançado em duplicidade")
    page.click("button:has-text('Remover negativação')")
    assert "baixada" in page.inner_text(".alert-success").lower()


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
    page.goto(f"{live_server}/titulos/{ids['T-60']}")
    page.click("button:has-text('Registrar pagamento')")
    assert "Saldo em aberto: R$ 0,00" in page.inner_text("main")
    page.goto(f"{live_server}/negativacoes/1")
    facts = page.inner_text("dl.facts")
    assert "Baixada" in page.inner_text("h1") and "Prazo legal de baixa" in facts and "Prazo cumprido" in facts
