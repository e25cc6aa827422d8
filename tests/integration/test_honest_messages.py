"""Messages say what happened: "Atualizar status" reports what the bureau answered (or that
nothing was asked), Simular gives the blocking reason Executar agora gives, and counts read in
correct pt-BR plurals."""

from __future__ import annotations

from app.models import BureauIntegration
from app.services.core.clock import today_br
from app.services.negativations.inclusion import negativate_titles
from tests.integration.collections_support import routine_world

from .titles_support import FINANCE


def test_refresh_status_says_what_the_bureau_answered(services, login_as, fake_bureau):
    today = today_br()
    branch_id, [party_id], ids = routine_world(services, today=today)
    negativate_titles(services, FINANCE, party_id, [ids["T-60"]], "12", today=today)
    client = login_as("finance")
    fake_bureau.activate("N-000001")
    html = client.post("/negativacoes/1/atualizar-status", follow_redirects=True).get_data(as_text=True)
    assert "Situação consultada no bureau: Em notificação → Ativo." in html
    html = client.post("/negativacoes/1/atualizar-status", follow_redirects=True).get_data(as_text=True)
    assert "Situação consultada no bureau: Ativo, sem mudança." in html and "enviada com sucesso" not in html
    client.post(f"/clientes/{party_id}/negativacoes/remover", data={"ids": ["1"], "reason": "manual"},
                follow_redirects=True)  # its own flash is read here
    html = client.post("/negativacoes/1/atualizar-status", follow_redirects=True).get_data(as_text=True)
    assert "Situação registrada: Baixada. Nada a consultar no bureau nesta situação." in html
    assert "baixada com sucesso" not in html


def test_simulate_gives_the_same_blocking_reason_as_execute(services, login_as, fake_bureau):
    today = today_br()
    branch_id, _, _ = routine_world(services, today=today)
    with services.session_factory() as s:
        s.get(BureauIntegration, 1).auto_include_remove = False
        s.commit()
    client = login_as("finance")
    reason = "A rotina não pode ser executada: A integração está com &#39;Incluir/Remover automaticamente&#39; = Não."
    executed = client.post("/cobranca/executar", data={"branch_id": branch_id}, follow_redirects=True)
    assert reason in executed.get_data(as_text=True)
    simulated = client.post("/cobranca/simular", data={"branch_id": branch_id}, follow_redirects=True)
    html = simulated.get_data(as_text=True)
    assert reason in html and "Simulação concluída" not in html


def test_run_counts_read_in_singular_and_plural(services, login_as, fake_bureau):
    today = today_br()
    branch_id, _, _ = routine_world(services, today=today, titles=(("T-60", 60),))
    client = login_as("finance")
    html = client.post("/cobranca/simular", data={"branch_id": branch_id}, follow_redirects=True).get_data(
        as_text=True)
    assert "negativação prevista (1 título)" in html and "negativações previstas" not in html
    assert "baixas previstas" in html and "títulos ignorados" in html  # zero takes the plural
