"""Small things that cost trust: the integration asks before it is deleted, restriction codes
come with their description, phones/CEPs are formatted, every date field takes dd/mm/aaaa, the
favicon exists, and a printed page says which branch, when and by whom."""

from __future__ import annotations

from app.models import BureauIntegration, Party
from app.services.core.clock import today_br
from app.services.negativations.inclusion import negativate_titles
from app.web.formatting import cep_br, phone_br
from tests.integration.collections_support import routine_world

from .titles_support import FINANCE


def test_formatting_of_phones_and_ceps():
    assert phone_br("11987654321") == "(11) 98765-4321"
    assert phone_br("+55 (11) 3333-4444") == "(11) 3333-4444"
    assert phone_br("ramal 12") == "ramal 12" and phone_br(None) == "—"
    assert cep_br("01310100") == "01310-100" and cep_br("") == "—"


def test_favicon_is_served_without_login(client):
    with client.get("/favicon.ico") as resp:  # a file response: closed here, not left to the collector
        assert resp.status_code == 200 and resp.data[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_negativation_detail_shows_the_code_description_cep_and_print_header(services, login_as, fake_bureau):
    today = today_br()
    branch_id, [party_id], ids = routine_world(services, today=today)
    with services.session_factory() as s:
        integ = s.get(BureauIntegration, 1)
        integ.reasons_cache = {"PF": [{"code": "12", "description": "Mensalidade em atraso", "kind": "inclusion"}]}
        s.get(Party, party_id).phone = "11987654321"
        s.commit()
    negativate_titles(services, FINANCE, party_id, [ids["T-60"]], "12", today=today)
    client = login_as("finance")
    html = client.get("/negativacoes/1").get_data(as_text=True)
    assert "12 — Mensalidade em atraso" in html and "CEP <span class=\"nowrap\">01001-000</span>" in html
    assert 'class="print-only print-header"' in html and "Impresso em" in html
    data = client.get(f"/crm/cadastros/{party_id}/dados").get_data(as_text=True)
    assert "(11) 98765-4321" in data


def test_integration_delete_asks_first_and_date_fields_take_dd_mm_aaaa(services, login_as):
    routine_world(services, today=today_br())
    admin = login_as("admin")
    form = admin.get("/configuracoes/integracoes/1").get_data(as_text=True)
    assert 'data-confirm="Excluir a integração' in form
    audit = admin.get("/auditoria/?from=01/01/2026&to=31/12/2099").get_data(as_text=True)
    assert 'value="01/01/2026"' in audit and 'type="date"' not in audit


def test_reconciliation_evidence_reads_in_pt_br(app):
    """The divergence evidence is kept as JSON (ISO dates, dot decimals, the bureau's English
    states); the page shows it like every other page: R$ 1.234,56, dd/mm/aaaa, Portuguese words."""
    evidence = {
        "local": {"status_label": "Ativo", "total_amount": "1234.56", "notice_until": "2026-11-03",
                  "removed_at": None, "removal_deadline": "2026-11-30", "titles": []},
        "bureau": {"found": True, "status": "removed", "total_amount": "1234.56",
                   "removed_at": "2026-11-20T15:30:00+00:00"},
        "checked_at": "2026-11-23T14:05:00+00:00",
    }
    with app.test_request_context():
        macro = app.jinja_env.get_template("reconciliation/_evidence.html").module.evidence
        html = " ".join(str(macro(evidence)).split())
    assert "Ativo · R$ 1.234,56 · notificação até 03/11/2026" in html
    assert "Prazo legal de baixa: 30/11/2026" in html
    assert "Baixada · R$ 1.234,56 · baixada em 20/11/2026 12:30" in html  # 15:30 UTC is 12:30 in Brasília
    assert "<dt>Visto em</dt><dd>23/11/2026 11:05</dd>" in html
    assert "removed" not in html and "1234.56" not in html and "2026-11" not in html
