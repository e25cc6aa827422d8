"""The negativation pages: client tabs, Incluir (reasons from the bureau, ineligible titles disabled with
their reason), Remover negativação, list and detail with labels, Atualizar status, the policy form."""

from __future__ import annotations

import re

from app.services.core.clock import today_br

from .titles_support import make_branch, make_client, make_title


def _setup(services):
    today = today_br()
    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        party = make_client(s, branch)
        ok = make_title(s, party, number="W-OK", days_overdue=20, today=today)
        future = make_title(s, party, number="W-FUT", days_overdue=-5, today=today)
        disputed = make_title(
            s, party, number="W-DISP", days_overdue=20, today=today, disputed=True, dispute_reason="Contesta"
        )
        s.commit()
        return branch.id, party.id, ok.id, future.id, disputed.id


def test_include_page_fetches_reasons_and_disables_ineligible_titles(services, login_as, fake_bureau):
    _, party_id, ok_id, future_id, disputed_id = _setup(services)
    client = login_as("finance")
    html = client.get(f"/clientes/{party_id}/negativacoes/incluir?buscar=1").get_data(as_text=True)
    assert "Buscar motivos restrição" in html and "12 — Mensalidade em atraso" in html
    assert "90 — Pagamento" not in html  # removal reasons are not inclusion reasons
    assert fake_bureau.calls_to("restriction_reasons") == [("PF",)]
    assert re.search(rf'value="{ok_id}"\s*aria-label', html)  # enabled
    assert re.search(rf'value="{future_id}"\s*disabled', html) and "Título não vencido (vence em" in html
    assert re.search(rf'value="{disputed_id}"\s*disabled', html) and "Título em disputa: Contesta" in html
    resp = client.post(
        f"/clientes/{party_id}/negativacoes/incluir",
        data={"restriction_code": "12", "title_ids": [str(ok_id)]},
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "enviada com sucesso" in html and "Em notificação" in html and "W-OK" in html
    resp = client.post(
        f"/clientes/{party_id}/negativacoes/incluir",
        data={"restriction_code": "12", "title_ids": [str(future_id)]},
    )
    assert "Títulos não elegíveis para negativação: W-FUT: Título não vencido" in resp.get_data(as_text=True)


def test_tabs_list_detail_refresh_and_remove(services, login_as, fake_bureau):
    branch_id, party_id, ok_id, _, _ = _setup(services)
    client = login_as("finance")
    client.post(
        f"/clientes/{party_id}/negativacoes/incluir", data={"restriction_code": "12", "title_ids": [ok_id]}
    )
    tab = client.get(f"/clientes/{party_id}/negativacoes").get_data(as_text=True)
    assert "Em notificação" in tab and "Remover negativação" in tab and "Incluir" in tab
    assert "W-OK" in client.get(f"/clientes/{party_id}/titulos").get_data(as_text=True)
    fake_bureau.activate("N-000001")
    resp = client.post("/negativacoes/1/atualizar-status", follow_redirects=True)
    assert "Situação consultada no bureau: Em notificação → Ativo." in resp.get_data(as_text=True)
    assert "Ativo" in client.get("/negativacoes/?status=active").get_data(as_text=True)
    remove_page = client.get(f"/clientes/{party_id}/negativacoes/remover").get_data(as_text=True)
    assert "Correção de erro" in remove_page and "Código de baixa" not in remove_page
    resp = client.post(
        f"/clientes/{party_id}/negativacoes/remover",
        data={"ids": ["1"], "reason": "manual"},
        follow_redirects=True,
    )
    assert "baixada com sucesso" in resp.get_data(as_text=True)
    detail = client.get("/negativacoes/1").get_data(as_text=True)
    assert "Baixada" in detail and "N-000001" in detail and "Baixa confirmada pelo bureau" in detail
    viewer = login_as("viewer")
    detail = viewer.get("/negativacoes/1").get_data(as_text=True)
    assert "Reenviar" not in detail and "***.982.247-**" in detail
    admin = login_as("admin")
    resp = admin.post(
        f"/negativacoes/politicas/{branch_id}",
        data={"min_amount": "25,00", "prescription_years": "5", "notice_days": "10"},
        follow_redirects=True,
    )
    assert "Política de negativação salva." in resp.get_data(as_text=True)
    assert login_as("finance").get(f"/negativacoes/politicas/{branch_id}").status_code == 403
