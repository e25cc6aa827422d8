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


def test_the_audit_trail_reads_in_portuguese(client, login_as):
    from app.web.audit_labels import ACTION_LABELS

    login_as("admin")  # writes an auth.login event
    page = client.get("/auditoria/").get_data(as_text=True)
    assert "<td>Entrada no sistema<br><small class=\"muted mono\">auth.login</small></td>" in page
    assert "<td>Usuário nº " in page
    # Every action the code records has its words (a new one without them fails here).
    import pathlib
    import re

    recorded = set()
    for path in pathlib.Path("app").rglob("*.py"):
        text = path.read_text()
        for call in re.finditer(r"(?:audit\.record|AuditEvent)\((.{0,300})", text, re.S):
            recorded.update(re.findall(r"\"([a-z_]+\.[a-z_]+)\"", call.group(1)))
    recorded.add("commerce.customer_update")
    assert recorded and not recorded - set(ACTION_LABELS), recorded - set(ACTION_LABELS)


def test_reasons_are_stored_again_when_the_process_cache_outlived_them(services, fake_bureau):
    from app.services.settings import restriction_reasons

    _, [party_id], _ = routine_world(services, today=today_br())
    first = restriction_reasons.reasons_for_party(services, party_id)
    assert first.items and not first.from_cache
    with services.session_factory() as s:
        s.get(BureauIntegration, 1).reasons_cache = None  # e.g. a database restored under a warm process
        s.commit()
    again = restriction_reasons.reasons_for_party(services, party_id)
    assert not again.from_cache and len(fake_bureau.calls_to("restriction_reasons")) == 2
    with services.session_factory() as s:
        assert s.get(BureauIntegration, 1).reasons_cache["PF"]  # the detail pages can describe codes again
    assert restriction_reasons.reasons_for_party(services, party_id).from_cache  # and the cache serves again


def test_the_audit_export_gives_its_connection_back(services, login_as):
    client = login_as("admin")  # writes an auth.login event, so the file has a row to stream
    resp = client.get("/auditoria/exportar.csv")
    assert "auth.login" in resp.get_data(as_text=True)
    resp.close()
    # The stream outlives the request: it must not leave a connection checked out (on PostgreSQL
    # one idle in a transaction blocked the next TRUNCATE).
    assert services.engine.pool.checkedout() == 0
