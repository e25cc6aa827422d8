"""Consultations through the web UI: from the leads list, a contact, a prospect and a client; the
report; reuse and the confirmation step; retry; the decision; roles and the global switch."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.models import AuditEvent, Consultation, Party
from app.services.core import audit
from app.services.crm import parties
from app.services.settings import switches as app_settings
from integrations.bureau import BureauUnavailable
from tests.conftest import login

from .crm_helpers import TEST_ACTOR, make_branch, make_cpf, make_party, set_policy


@pytest.fixture
def branch_id(services):
    return make_branch(services)


@pytest.fixture
def lead_id(services, branch_id):
    return make_party(services, branch_id, seed=40, name="Lead da Web")


def consultations(session) -> list[Consultation]:
    session.expire_all()
    return list(session.scalars(select(Consultation).order_by(Consultation.id)))


def report_id(resp) -> int:
    match = re.search(r"/crm/consultas/(\d+)$", resp.headers["Location"])
    assert match, resp.headers.get("Location")
    return int(match.group(1))


def test_crm_consults_from_leads_list_and_sees_report(client, users, fake_bureau, lead_id, session):
    login(client, "crm")
    resp = client.post(
        f"/crm/cadastros/{lead_id}/consultar",
        data={"purpose": "cadastro", "origin": "leads", "next": "/crm/leads/"},
    )
    c_id = report_id(resp)
    html = client.get(f"/crm/consultas/{c_id}").get_data(as_text=True)
    [c] = consultations(session)
    assert (c.origin, c.actor, c.status) == ("leads", "crm", "success")
    for text in (
        c.subject_name,
        f'<span class="value big">{c.score}</span>',
        c.risk_class,
        c.protocol,
        "Solicitada por</dt><dd>crm em",
        "report.css",
        "Consultar novamente (nova consulta cobrada)",
    ):
        assert text in html
    assert "Aplicar decisão" not in html  # crm consults; finance/admin decide
    for r in c.restrictions:
        assert r["creditor"] in html
    assert "Consulta realizada" in html


def test_report_lists_restrictions_in_words_with_pt_br_dates(client, users, fake_bureau, lead_id, session):
    login(client, "crm")
    c_id = report_id(client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "cadastro"}))
    [c] = consultations(session)
    c.restrictions = [{"creditor": "Banco Horizonte S.A.", "kind": "PEFIN", "occurred_on": "2025-03-07",
                       "amount": "1234.56"},
                      {"creditor": "1º Tabelionato", "kind": "PROTESTO", "occurred_on": "2024-12-31", "amount": "10"}]
    session.commit()
    html = client.get(f"/crm/consultas/{c_id}").get_data(as_text=True)
    assert ("<td>Banco Horizonte S.A.</td><td>Pendência financeira (PEFIN)</td><td>07/03/2025</td>"
            '<td class="num">R$ 1.234,56</td>') in html
    assert "<td>1º Tabelionato</td><td>Protesto em cartório</td><td>31/12/2024</td>" in html


def test_reuse_shows_badge_without_bureau_call_then_confirmation_charges(
    client, users, fake_bureau, lead_id, session
):
    login(client, "crm")
    first = report_id(client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "cadastro"}))
    second = report_id(client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "cadastro"}))
    assert second != first
    html = client.get(f"/crm/consultas/{second}").get_data(as_text=True)
    assert (
        "REAPROVEITADA — sem nova cobrança" in html and "nenhuma nova consulta foi feita nem cobrada" in html
    )
    assert f"/crm/consultas/{first}" in html
    assert len(fake_bureau.calls_to("consult")) == 1
    confirm = client.get(f"/crm/consultas/{second}/nova").get_data(as_text=True)
    assert "Confirmar nova consulta cobrada" in confirm and 'name="force_new" value="1"' in confirm
    third = report_id(
        client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "limite", "force_new": "1"})
    )
    assert len(fake_bureau.calls_to("consult")) == 2
    assert [(c.status, c.force_new) for c in consultations(session)] == [
        ("success", False),
        ("reused", False),
        ("success", True),
    ]
    assert consultations(session)[-1].id == third
    audit = client.get("/crm/leads/")  # any page; the audit page is admin-only
    assert audit.status_code == 200
    login(client, "admin")
    page = client.get("/auditoria/?action=consultation").get_data(as_text=True)
    assert page.count("consultation.success") == 2 and page.count("consultation.reuse") == 1


def test_contact_prospect_and_client_entry_points(client, users, fake_bureau, services, lead_id, session):
    with transaction(services.session_factory) as s:
        contact = parties.add_contact(
            s, TEST_ACTOR, lead_id, parties.ContactInput(name="Sócia", document=make_cpf(41))
        )
    login(client, "finance")
    report_id(
        client.post(
            f"/crm/cadastros/{lead_id}/consultar",
            data={"purpose": "cadastro", "contact_id": str(contact.id), "origin": "contato"},
        )
    )
    assert fake_bureau.calls_to("consult") == [(make_cpf(41), "CPF")]
    client.post(f"/crm/cadastros/{lead_id}/converter")
    tab = client.get(f"/crm/cadastros/{lead_id}/consultas").get_data(as_text=True)
    assert "Consultas de análise de crédito" in tab and "Contato Sócia" in tab and "como Lead" in tab
    client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "cadastro", "origin": "prospect"})
    client.post(f"/crm/cadastros/{lead_id}/converter")
    assert session.get(Party, lead_id).stage == "client"
    page = client.get(f"/crm/cadastros/{lead_id}/dados").get_data(as_text=True)
    assert "Análise de crédito" in page and "Consulta de crédito" in page
    client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "limite", "origin": "cliente"})
    rows = consultations(session)
    assert [(c.origin, c.stage, c.contact_id) for c in rows] == [
        ("contato", "lead", contact.id),
        ("prospect", "prospect", None),
        ("cliente", "client", None),
    ]
    tab = client.get(f"/crm/cadastros/{lead_id}/consultas").get_data(as_text=True)
    assert tab.count("Ver relatório") == 3


def test_bureau_down_shows_plain_message_and_one_click_retry(client, users, fake_bureau, lead_id, session):
    login(client, "crm")
    fake_bureau.fail_next(BureauUnavailable("connection refused"))
    resp = client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "cadastro"})
    failed = report_id(resp)
    html = client.get(f"/crm/consultas/{failed}").get_data(as_text=True)
    assert "A consulta não foi concluída" in html and "indisponível" in html and "Tentar novamente" in html
    ok = report_id(client.post(f"/crm/consultas/{failed}/repetir"))
    assert [c.status for c in consultations(session)] == ["failed", "success"]
    assert consultations(session)[1].id == ok


def test_quota_message_on_the_page(client, users, services, fake_bureau, lead_id, branch_id):
    set_policy(services, branch_id, monthly_quota=1)
    login(client, "crm")
    client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "cadastro"})
    resp = client.post(
        f"/crm/cadastros/{lead_id}/consultar",
        data={"purpose": "cadastro", "force_new": "1"},
        follow_redirects=True,
    )
    assert "A cota mensal de consultas da filial Filial Centro foi atingida" in resp.get_data(as_text=True)
    assert len(fake_bureau.calls_to("consult")) == 1


def test_finance_applies_or_overrides_the_suggestion(client, users, fake_bureau, lead_id, session):
    login(client, "finance")
    c_id = report_id(client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "cadastro"}))
    html = client.get(f"/crm/consultas/{c_id}").get_data(as_text=True)
    assert "Sugestão da política da filial" in html and "Aplicar decisão" in html
    bad = client.post(f"/crm/consultas/{c_id}/decisao", data={"status": "APV", "reason": ""})
    assert bad.status_code == 422 and "LGPD art. 20" in bad.get_data(as_text=True)
    client.post(
        f"/crm/consultas/{c_id}/decisao",
        data={"status": "RPV", "reason": "Restrições recentes em outro fornecedor", "credit_limit": "900"},
    )
    c = consultations(session)[0]
    assert (c.decision_status, c.decision_limit, c.decided_by) == ("RPV", Decimal("0.00"), "finance")
    assert session.get(Party, lead_id).status == "RPV"
    page = client.get(f"/crm/consultas/{c_id}").get_data(as_text=True)
    assert "Restrições recentes em outro fornecedor" in page and "Revisar decisão" in page
    login(client, "crm")
    assert (
        client.post(f"/crm/consultas/{c_id}/decisao", data={"status": "APV", "reason": "x" * 10}).status_code
        == 403
    )


def test_viewer_reads_reports_but_cannot_consult(client, users, fake_bureau, lead_id, session):
    login(client, "crm")
    c_id = report_id(client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "cadastro"}))
    login(client, "viewer")
    html = client.get(f"/crm/consultas/{c_id}").get_data(as_text=True)
    assert "Relatório de consulta de crédito" in html and "***." in html
    assert "Consultar novamente" not in html and "Aplicar decisão" not in html
    assert client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "cadastro"}).status_code == 403
    assert client.get(f"/crm/consultas/{c_id}/nova").status_code == 403
    assert "Consultar análise de crédito" not in client.get(f"/crm/cadastros/{lead_id}/consultas").get_data(
        as_text=True
    )
    assert len(fake_bureau.calls_to("consult")) == 1


def test_switch_off_hides_and_refuses(client, users, services, fake_bureau, lead_id, session):
    with transaction(services.session_factory) as s:
        app_settings.set_credit_analysis(s, TEST_ACTOR, False)
    login(client, "crm")
    resp = client.post(f"/crm/cadastros/{lead_id}/consultar", data={"purpose": "cadastro"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert fake_bureau.calls == [] and session.scalar(select(func.count(Consultation.id))) == 0
    page = client.get(f"/crm/cadastros/{lead_id}/dados").get_data(as_text=True)
    assert "Consultas de análise de crédito" not in page and "Análise de crédito" not in page
    assert "Consultar análise de crédito" not in client.get("/crm/leads/").get_data(as_text=True)
    assert client.get(f"/crm/cadastros/{lead_id}/consultas").status_code == 302


def test_admin_edits_branch_policy(client, users, branch_id, session):
    login(client, "admin")
    assert "Política de consultas" in client.get(f"/configuracoes/filiais/{branch_id}").get_data(as_text=True)
    url = f"/configuracoes/filiais/{branch_id}/politica-de-consultas"
    form = {
        "reuse_days": "15",
        "monthly_quota": "200",
        "cost_per_consultation": "4,90",
        "retention_days": "10",
        "approve_min_score": "750",
        "reject_below_score": "400",
        "approve_risk_classes": "a, b",
        "reject_risk_classes": "E",
        "max_restrictions_for_approval": "0",
        "approved_limit": "3.000,00",
        "pending_limit": "0",
    }
    bad = client.post(url, data=form).get_data(as_text=True)
    assert "De 30 a 3650 dias" not in bad and "Informe de 30 a 3650 dias." in bad
    assert client.post(url, data=dict(form, retention_days="400")).status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert 'value="4,90"' in html and 'value="A,B"' in html and 'value="3000,00"' in html
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "settings.consultation_policy")
    ).one()
    assert event.details["changes"]["reuse_days"] == [30, 15]
    login(client, "finance")
    assert client.get(url).status_code == 403


def test_audit_filters_and_csv_is_safe_against_formulas(client, users, services, fake_bureau, branch_id):
    evil = make_party(services, branch_id, seed=42, name='=HYPERLINK("http://evil.example","x")')
    login(client, "crm")
    client.post(f"/crm/cadastros/{evil}/consultar", data={"purpose": "cadastro"})
    client.post(f"/crm/cadastros/{evil}/consultar", data={"purpose": "cadastro"})
    login(client, "admin")
    doc = make_cpf(42)
    page = client.get(f"/auditoria/?document={doc}&user_id={users['crm'].id}").get_data(as_text=True)
    assert page.count("consultation.") == 2 and "Resultado: reaproveitada (sem cobrança)" in page
    assert "Finalidade: Análise de crédito para cadastro" in page
    csv_text = client.get(f"/auditoria/exportar.csv?document={doc}").get_data(as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0].endswith(";finalidade;resultado")
    consult_lines = [line for line in lines if ";consultation." in line]
    assert len(consult_lines) == 2
    assert all(";Análise de crédito para cadastro;" in line for line in consult_lines)
    assert consult_lines[0].endswith(";reaproveitada (sem cobrança)")
    with transaction(services.session_factory) as s:
        audit.record(s, audit.Actor(name="@evil"), "party.update", "party", evil, document=doc,
                     summary='=HYPERLINK("http://evil.example","x")', details={"note": "-2+3"})
    rows = list(csv.reader(io.StringIO(client.get(f"/auditoria/exportar.csv?document={doc}").get_data(
        as_text=True).lstrip("\ufeff")), delimiter=";"))
    injected = [r for r in rows if r[2] == "party.update"][0]
    assert injected[1] == "'@evil" and injected[7] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    login(client, "finance")
    assert client.get("/auditoria/").status_code == 403


def test_report_warns_when_the_bureau_knows_the_document_under_another_name(client, users, fake_bureau, services,
                                                                             branch_id, session):
    from integrations.bureau import ConsultationResult
    party_id = make_party(services, branch_id, seed=41, name="Supermercado Estrela Ltda", stage="client")
    doc = session.get(Party, party_id).document
    fake_bureau.consultations[doc] = ConsultationResult(
        protocol="C-NAME", document=doc, name="Conecta Serviços de Informática S.A.", score=820, risk_class="A",
        restrictions=(), restrictions_total=Decimal("0.00"), queried_at=None, raw={})
    login(client, "crm")
    c_id = report_id(client.post(f"/crm/cadastros/{party_id}/consultar", data={"purpose": "cadastro"}))
    html = client.get(f"/crm/consultas/{c_id}").get_data(as_text=True)
    assert "o bureau conhece este documento por outro nome" in html
    assert "Cadastro: “Supermercado Estrela Ltda”; bureau: “Conecta Serviços de Informática S.A.”" in html
    api = client.get(f"/crm/consultas/{c_id}")  # same page again: the warning is computed, not a flash
    assert "outro nome" in api.get_data(as_text=True)


def test_report_shows_no_name_warning_for_the_same_name_written_another_way(client, users, fake_bureau, services,
                                                                          branch_id, session):
    from integrations.bureau import ConsultationResult
    party_id = make_party(services, branch_id, seed=42, name="Estrela Comércio S/A", stage="client")
    doc = session.get(Party, party_id).document
    fake_bureau.consultations[doc] = ConsultationResult(
        protocol="C-SAME", document=doc, name="ESTRELA COMERCIO LTDA", score=820, risk_class="A",
        restrictions=(), restrictions_total=Decimal("0.00"), queried_at=None, raw={})
    login(client, "crm")
    c_id = report_id(client.post(f"/crm/cadastros/{party_id}/consultar", data={"purpose": "cadastro"}))
    assert "outro nome" not in client.get(f"/crm/consultas/{c_id}").get_data(as_text=True)
