"""Leads, prospects and clients: validation, search and keyset pages, conversion, contacts, web pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import AuditEvent, Contact, Party
from app.services.core.errors import Conflict, ValidationError
from app.services.crm import parties
from app.services.crm.search import PartyFilter, list_parties, search_kind
from tests.conftest import login

from .crm_helpers import TEST_ACTOR, make_branch, make_cnpj, make_cpf, make_party


@pytest.fixture
def branch_id(services):
    return make_branch(services)


def create(services, branch_id, stage="lead", **fields):
    fields.setdefault("name", "Maria da Silva")
    with transaction(services.session_factory) as s:
        return parties.create_party(
            s, TEST_ACTOR, parties.PartyInput(branch_id=branch_id, **fields), stage=stage
        )


def test_create_normalises_and_validates_in_portuguese(services, branch_id):
    p = create(
        services,
        branch_id,
        name="  Mercado   Boa Vista ",
        email=" Compras@BoaVista.COM.br ",
        document=make_cnpj(5)[:2] + "." + make_cnpj(5)[2:],
        phone="+55 (11) 3333-4444",
        mobile="(11) 98888-7777",
        state="sp",
        zip="01310-100",
        state_registration="isento",
    )
    assert (p.name, p.email, p.document, p.document_kind) == (
        "Mercado Boa Vista",
        "compras@boavista.com.br",
        make_cnpj(5),
        "CNPJ",
    )
    assert (p.phone, p.mobile, p.state, p.zip, p.state_registration, p.status) == (
        "1133334444",
        "11988887777",
        "SP",
        "01310100",
        "ISENTO",
        "PEN",
    )
    with pytest.raises(ValidationError) as info:
        create(
            services,
            branch_id,
            name="",
            email="sem-arroba",
            document="111.111.111-11",
            phone="123",
            state="XX",
            zip="123",
        )
    assert info.value.field_errors == {
        "name": "Informe o nome ou a razão social.",
        "email": "E-mail inválido.",
        "document": "CPF inválido: todos os dígitos são iguais",
        "phone": "Informe o telefone com DDD (10 ou 11 dígitos).",
        "state": "UF inválida.",
        "zip": "O CEP deve ter 8 dígitos.",
    }
    with pytest.raises(ValidationError) as info:
        create(services, branch_id, stage="client", name="Sem doc")
    assert info.value.field_errors == {"document": "Um cliente precisa de CPF ou CNPJ."}


def test_duplicate_document_in_the_same_branch_is_a_conflict(services, branch_id):
    create(services, branch_id, document=make_cpf(1))
    with pytest.raises(Conflict) as info:
        create(services, branch_id, name="Outra", document=make_cpf(1))
    assert info.value.code == "duplicate_document" and "Maria da Silva (Lead nº" in info.value.message
    other = make_branch(services, name="Filial Rio", cnpj="12ABC34501DE35")
    assert create(services, other, document=make_cpf(1)).document == make_cpf(1)


def test_conversion_keeps_the_row_contacts_and_history(services, branch_id):
    lead = create(services, branch_id, document=make_cpf(2))
    with transaction(services.session_factory) as s:
        parties.add_contact(s, TEST_ACTOR, lead.id, parties.ContactInput(name="Sócio", document=make_cpf(3)))
        assert parties.convert(s, TEST_ACTOR, lead.id).stage == "prospect"
        client = parties.convert(s, TEST_ACTOR, lead.id)
        assert (client.id, client.stage) == (lead.id, "client")
        assert client.became_prospect_at and client.became_client_at
        with pytest.raises(Conflict):
            parties.convert(s, TEST_ACTOR, lead.id)
    with services.session_factory() as s:
        assert [c.name for c in s.scalars(select(Contact).where(Contact.party_id == lead.id))] == ["Sócio"]
        history = s.scalars(
            select(AuditEvent.details)
            .where(AuditEvent.entity_type == "party", AuditEvent.action == "party.convert")
            .order_by(AuditEvent.id)
        ).all()
        assert [d["stage"] for d in history] == [["lead", "prospect"], ["prospect", "client"]]


def test_prospect_without_document_cannot_become_client(services, branch_id):
    p = create(services, branch_id, stage="prospect")
    with transaction(services.session_factory) as s, pytest.raises(ValidationError) as info:
        parties.convert(s, TEST_ACTOR, p.id)
    assert "CPF ou CNPJ" in info.value.message


def test_search_kinds():
    assert search_kind("529.982.247-25") == ("document", "52998224725")
    assert search_kind("12.abc") == ("document", "12ABC")
    assert search_kind("Ana@Exemplo") == ("email", "ana@exemplo")
    assert search_kind("  maria   da ") == ("name", "maria da")
    assert search_kind("Cliente 0") == ("name", "Cliente 0")
    assert search_kind("Loja2000") == ("name", "Loja2000")


def test_list_search_filters_and_keyset_pages(services, branch_id):
    other = make_branch(services, name="Filial Rio", cnpj="12ABC34501DE35")
    with transaction(services.session_factory) as s:
        for i in range(7):
            parties.create_party(
                s,
                TEST_ACTOR,
                parties.PartyInput(
                    branch_id=branch_id if i % 2 == 0 else other,
                    name=f"Cliente {i:02d} 100%_x",
                    email=f"c{i}@example.com",
                    document=make_cpf(100 + i),
                ),
                stage="client",
            )
        parties.create_party(s, TEST_ACTOR, parties.PartyInput(branch_id=branch_id, name="Álvaro Lead"))
    with services.session_factory() as s:
        page1 = list_parties(s, PartyFilter(stage="client"), limit=3)
        assert [p.name[:10] for p in page1.items] == ["Cliente 06", "Cliente 05", "Cliente 04"]
        page2 = list_parties(s, PartyFilter(stage="client"), cursor=page1.next_cursor, limit=3)
        page3 = list_parties(s, PartyFilter(stage="client"), cursor=page2.next_cursor, limit=3)
        assert [p.name[:10] for p in page3.items] == ["Cliente 00"] and page3.next_cursor is None
        by_name = list_parties(s, PartyFilter(stage="client", sort="name"), limit=4)
        rest = list_parties(s, PartyFilter(stage="client", sort="name"), cursor=by_name.next_cursor, limit=4)
        assert [p.name[8:10] for p in by_name.items + rest.items] == [
            "00",
            "01",
            "02",
            "03",
            "04",
            "05",
            "06",
        ]
        assert len(list_parties(s, PartyFilter(stage="client", branch_id=other)).items) == 3
        assert len(list_parties(s, PartyFilter(stage="client", q="cliente 0")).items) == 7
        assert (
            list_parties(s, PartyFilter(stage="client", q="Cliente 03 100%_")).items[0].email
            == "c3@example.com"
        )
        # % and _ are punctuation, never LIKE wildcards: "Cl%nte" would match "Cliente" as a pattern.
        assert list_parties(s, PartyFilter(stage="client", q="Cl%nte")).items == []
        assert list_parties(s, PartyFilter(stage="client", q="_liente")).items == []
        doc = make_cpf(104)
        assert [
            p.document
            for p in list_parties(s, PartyFilter(stage="client", q=doc[:3] + "." + doc[3:6])).items
            if p.document == doc
        ] == [doc]
        assert [p.email for p in list_parties(s, PartyFilter(stage="client", q="C5@EX")).items] == [
            "c5@example.com"
        ]
        assert list_parties(s, PartyFilter(stage="lead", q="Álvaro")).items[0].name == "Álvaro Lead"
        assert list_parties(s, PartyFilter(stage="client", status="APV")).items == []
        assert len(list_parties(s, PartyFilter(stage="client"), cursor="not-a-cursor").items) == 7


def test_name_search_by_any_word_ignoring_accents(services, branch_id):
    names = ["Maria da Silva", "João Silva-Santos", "Sílvio Mara ME", "Ana Paula Souza"]
    with transaction(services.session_factory) as s:
        for i, name in enumerate(names):
            parties.create_party(s, TEST_ACTOR, parties.PartyInput(branch_id=branch_id, name=name,
                                                                   document=make_cpf(300 + i)), stage="client")

    def found(q: str) -> list[str]:
        with services.session_factory() as s:
            return sorted(p.name for p in list_parties(s, PartyFilter(stage="client", q=q)).items)

    assert found("silva") == ["João Silva-Santos", "Maria da Silva"]  # a surname, not only the start
    assert found("joao") == found("JOÃO") == ["João Silva-Santos"]  # accents and case ignored
    assert found("santos") == ["João Silva-Santos"]  # a hyphen separates words
    assert found("silva mar") == ["Maria da Silva"]  # every word typed, in any order
    assert found("sil") == ["João Silva-Santos", "Maria da Silva", "Sílvio Mara ME"]
    assert found("ilva") == [] and found("maria souza") == []  # a word's beginning, all words
    with transaction(services.session_factory) as s:  # renaming refolds
        ana = s.scalars(select(Party).where(Party.name == "Ana Paula Souza")).one()
        ana.name = "Ana Paula Ribeiro"
    assert found("ribeiro") == ["Ana Paula Ribeiro"] and found("souza") == []


def test_delete_only_without_consultations(services, branch_id, fake_bureau):
    from app.services.consultations.consult import consult_credit

    lone = create(services, branch_id, name="Apagar", document=make_cpf(9))
    used = make_party(services, branch_id, seed=10)
    consult_credit(services, TEST_ACTOR, used, purpose="cadastro")
    with transaction(services.session_factory) as s:
        parties.delete_party(s, TEST_ACTOR, lone.id)
        with pytest.raises(Conflict):
            parties.delete_party(s, TEST_ACTOR, used)
    with services.session_factory() as s:
        assert s.get(Party, lone.id) is None and s.get(Party, used) is not None


def test_web_lists_forms_and_conversion(client, users, services, branch_id, session):
    login(client, "crm")
    assert client.get("/crm/leads/").status_code == 200
    resp = client.post(
        "/crm/leads/novo",
        data={
            "branch_id": str(branch_id),
            "name": "Lead Web",
            "document": make_cpf(20),
            "email": "lead@web.com",
        },
    )
    assert resp.status_code == 302
    party = session.scalars(select(Party).where(Party.name == "Lead Web")).one()
    html = client.get("/crm/leads/?q=lead%20w").get_data(as_text=True)
    assert "Lead Web" in html and "Consultar análise de crédito" in html
    bad = client.post(
        f"/crm/cadastros/{party.id}/editar",
        data={"branch_id": str(branch_id), "name": "Lead Web", "document": "123"},
    )
    assert "Documento inválido" in bad.get_data(as_text=True)
    page = client.get(f"/crm/cadastros/{party.id}/dados").get_data(as_text=True)
    for text in ("Dados", "Contatos", "Consultas de análise de crédito", "Converter em Prospect", "Lead Web"):
        assert text in page
    assert (
        client.post(
            f"/crm/cadastros/{party.id}/contatos", data={"name": "Contato A", "document": make_cpf(21)}
        ).status_code
        == 302
    )
    contacts_html = client.get(f"/crm/cadastros/{party.id}/contatos").get_data(as_text=True)
    assert "Contato A" in contacts_html and "Consulta de crédito" in contacts_html
    assert client.post(f"/crm/cadastros/{party.id}/converter").status_code == 302
    session.expire_all()
    assert session.get(Party, party.id).stage == "prospect"
    assert "Lead Web" in client.get("/crm/prospects/").get_data(as_text=True)
    assert "Lead Web" not in client.get("/crm/leads/").get_data(as_text=True)
    history = client.get(f"/crm/cadastros/{party.id}/dados").get_data(as_text=True)
    assert "convertido de Lead para Prospect" in history


def test_viewer_reads_masked_and_cannot_edit(client, users, services, branch_id):
    party_id = make_party(services, branch_id, seed=30)
    login(client, "viewer")
    html = client.get("/crm/leads/").get_data(as_text=True)
    doc = make_cpf(30)
    assert "***." + doc[3:6] + "." + doc[6:9] + "-**" in html
    assert "Consultar análise de crédito" not in html and "Novo lead" not in html
    assert client.get("/crm/leads/novo").status_code == 403
    assert client.post(f"/crm/cadastros/{party_id}/converter").status_code == 403
    assert client.post(f"/crm/cadastros/{party_id}/contatos", data={"name": "x"}).status_code == 403
    page = client.get(f"/crm/cadastros/{party_id}/dados").get_data(as_text=True)
    assert "Editar" not in page and "Análise de crédito" not in page
