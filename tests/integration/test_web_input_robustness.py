"""No input reaches a server error in the web app: damaged cursors, ids that are not ids ("abc", "²",
"٣", "３", past 2^63), repeated keys, and a `next=` with control characters after the login."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Negativation, Party, Title
from app.services.titles import lifecycle as titles
from tests.clock import pin_clock

from .credit_support import FINANCE
from .titles_support import TODAY, make_branch, make_client, make_title

# 2^31 is past PostgreSQL's INTEGER ids, 2^63 past SQLite's driver.
NOT_IDS = ["abc", "²", "٣", "３", "１２", str(2**31), str(2**63), str(2**64), str(10**30), "-1", "0", "1_0",
           "x" * 3000]


@pytest.fixture(autouse=True)
def _today():
    with pin_clock(TODAY):
        yield


@pytest.fixture
def portfolio(services):
    with services.session_factory() as s:
        branch = make_branch(s, services.box)
        party = make_client(s, branch)
        overdue = make_title(s, party, number="R-1", days_overdue=40)
        make_title(s, party, number="R-2", days_overdue=10)
        s.commit()
        return {"branch": branch.id, "party": party.id, "title": overdue.id}


@pytest.mark.parametrize("cursor", ["abc", "²", "WyJ4IiwgMV0", "W10", "eyJhIjoxfQ", "%%%", str(2**64),
                                    "WyIyMDI2LTAyLTAxIiwgOTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ",
                                    "WyIyMDI2LTAyLTAxIiwgMzAwMDAwMDAwMF0"])
def test_any_cursor_on_the_clients_titles_tab_is_not_a_server_error(client, login_as, portfolio, cursor):
    login_as("viewer")
    resp = client.get(f"/clientes/{portfolio['party']}/titulos", query_string={"cursor": cursor})
    # Before: the damaged cursor's ValidationError had no page of its own and went home (or a 500).
    assert resp.status_code == 302 and resp.headers["Location"] == f"/clientes/{portfolio['party']}/titulos"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Página inválida; volte para a primeira." in page and "R-1" in page


def test_a_valid_cursor_on_the_clients_titles_tab_still_pages(client, login_as, services, portfolio):
    with services.session_factory() as s:
        party = s.get(Party, portfolio["party"])
        for n in range(3, 105):
            make_title(s, party, number=f"R-{n:03d}", days_overdue=5)
        s.commit()
    login_as("viewer")
    first = client.get(f"/clientes/{portfolio['party']}/titulos").get_data(as_text=True)
    assert "cursor=" in first
    cursor = first.split("cursor=")[1].split('"')[0].split("&")[0]
    assert client.get(f"/clientes/{portfolio['party']}/titulos?cursor={cursor}").status_code == 200


@pytest.mark.parametrize("title_ids", [["abc"], ["²"], [str(2**31)], [str(2**63)], ["1", "abc"]])
def test_negativation_form_with_ids_that_are_not_ids(client, login_as, services, portfolio, title_ids):
    login_as("finance")
    resp = client.post(f"/clientes/{portfolio['party']}/negativacoes/incluir",
                       data={"restriction_code": "12", "title_ids": title_ids})
    assert resp.status_code == 200
    assert "Seleção de títulos inválida." in resp.get_data(as_text=True)
    with services.session_factory() as s:
        assert s.scalar(select(func.count(Negativation.id))) == 0


@pytest.mark.parametrize("ids", [["abc"], ["²"], [str(2**31)], [str(2**64)]])
def test_removal_by_hand_with_ids_that_are_not_ids(client, login_as, services, portfolio, ids):
    login_as("finance")
    resp = client.post(f"/clientes/{portfolio['party']}/negativacoes/remover",
                       data={"reason": "manual", "ids": ids})
    assert resp.status_code == 200 and "Seleção de negativações inválida." in resp.get_data(as_text=True)


@pytest.mark.parametrize("title_ids", [["abc"], ["²", "٣"], [str(2**63)]])
def test_bulk_negativation_with_ids_that_are_not_ids(client, login_as, portfolio, title_ids):
    login_as("finance")
    resp = client.post("/negativacoes/lote/confirmar", data={"title_ids": title_ids})
    assert resp.status_code in (200, 302) and resp.status_code < 500


def test_restore_credit_of_a_title_ignores_a_posted_party_id(client, login_as, services):
    from .credit_support import make_branch as credit_branch
    from .credit_support import make_client as credit_client

    branch_id = credit_branch(services)
    party_id = credit_client(services, branch_id, limit="1000.00")
    with services.session_factory() as s:
        title = make_title(s, s.get(Party, party_id), number="C-1", days_overdue=5, origin="credit_purchase")
        s.commit()
        title_id = title.id
    with services.session_factory() as s:
        titles.cancel_title(s, FINANCE, title_id, "pedido devolvido")
        s.commit()
    login_as("finance")
    # A missing reason: the client's tab again (422) with the message, whatever party_id says.
    resp = client.post(f"/credito/titulos/{title_id}/restaurar", data={"party_id": "abc", "reason": ""})
    assert resp.status_code == 422 and "Informe o motivo da restauração." in resp.get_data(as_text=True)
    resp = client.post(f"/credito/titulos/{title_id}/restaurar", data={"party_id": "abc", "reason": "devolvido"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/credito/clientes/{party_id}"
    for huge in (2**31, 2**63 - 1):  # past PostgreSQL's INTEGER ids, and past everything
        assert client.post(f"/credito/titulos/{huge}/restaurar", data={"party_id": "abc"}).status_code == 404


@pytest.mark.parametrize("target", ["/%0D%0ASet-Cookie:x=1", "/%0d%0a%0d%0a<h1>x", "%0D%0A//evil.example",
                                    "/ok%00", "//%0D%0Aevil.example"])
def test_login_next_with_control_characters_redirects_home(client, users, target):
    from tests.conftest import PASSWORD

    resp = client.post(f"/login?next={target}", data={"username": "admin", "password": PASSWORD})
    assert resp.status_code == 302
    assert resp.headers["Location"] in ("/", "http://localhost/")
    assert "\r" not in resp.headers["Location"] and "\n" not in resp.headers["Location"]


LIST_QUERIES = [
    ("/titulos/", ["branch_id", "party_id"]),
    ("/negativacoes/", ["branch_id", "party_id", "before"]),
    ("/crm/clientes/", ["branch_id"]),
    ("/crm/leads/", ["branch_id"]),
    ("/auditoria/", ["user_id", "page", "per_page"]),
    ("/cobranca/execucoes", ["branch_id", "page"]),
    ("/cobranca/painel", ["branch_id"]),
    ("/conciliacao/", ["branch_id"]),
    ("/credito/contas", ["branch_id", "page"]),
    ("/credito/reservas", ["branch_id", "page"]),
    ("/credito/entregas", ["branch_id", "page"]),
    ("/eventos/", ["page"]),
]


@pytest.mark.parametrize(("path", "keys"), LIST_QUERIES)
def test_list_filters_take_any_number_shaped_text(client, login_as, portfolio, path, keys):
    login_as("admin")
    for key in keys:
        for value in NOT_IDS:
            resp = client.get(path, query_string={key: value})
            assert resp.status_code < 500, (path, key, value)
        resp = client.get(path, query_string=[(key, "1"), (key, "²"), (key, str(2**64))])  # repeated key
        assert resp.status_code < 500, (path, key, "repeated")


@pytest.mark.parametrize("value", NOT_IDS)
def test_forms_with_a_branch_that_is_not_an_id(client, login_as, services, portfolio, value):
    login_as("admin")
    cases = [
        ("/titulos/novo", {"branch_id": value, "cliente_documento": "52998224725", "number": "N-1",
                           "issue_date": "01/03/2026", "due_date": "31/03/2026", "amount": "10,00"}),
        (f"/titulos/novo?party_id={value}", {"party_id": value, "branch_id": value, "number": "N-2"}),
        ("/crm/leads/novo", {"branch_id": value, "name": "Lead"}),
        ("/configuracoes/filiais/nova", {"name": "F", "bureau_integration_id": value}),
        ("/credito/simular", {"branch_id": value, "document": "52998224725", "amount": "10,00",
                              "method": "boleto_faturado"}),
        ("/conciliacao/conciliar", {"branch_id": value}),
        ("/cobranca/execucoes", {"branch_id": value}),
        ("/eventos/novo", {"branch_id": value, "name": "E", "url": "https://example.com/x"}),
        ("/conta/tokens", {"name": "t", "expires_days": value}),
        (f"/crm/cadastros/{portfolio['party']}/consultar", {"contact_id": value, "purpose": "cadastro"}),
    ]
    for url, data in cases:
        resp = client.post(url, data=data)
        assert resp.status_code < 500, (url, value)
    with services.session_factory() as s:
        assert s.scalar(select(func.count(Title.id))) == 2  # nothing was created with a made-up id


def test_path_ids_past_64_bits_are_not_found(client, login_as, portfolio):
    login_as("admin")
    for path in (f"/titulos/{2**31}", f"/titulos/{2**63 - 1}", f"/titulos/{2**63}", f"/clientes/{2**64}/titulos",
                 f"/crm/cadastros/{10**30}/dados", f"/credito/clientes/{2**31}", f"/negativacoes/{2**40}"):
        assert client.get(path).status_code == 404


def test_impossible_dates_in_filters_are_ignored(client, login_as, portfolio):
    login_as("admin")
    for value in ("31/02/2026", "29/02/2027", "1900-01-01", "00/00/0000", "01/01/0001", "99/99/9999"):
        for key in ("due_from", "due_to"):
            page = client.get("/titulos/", query_string={key: value})
            impossible = value not in ("1900-01-01", "01/01/0001")  # ignored, so every title shows
            assert page.status_code == 200 and ("R-1" in page.get_data(as_text=True)) == (
                impossible or key == "due_from"), (key, value)
        assert client.get("/negativacoes/", query_string={"from": value, "to": value}).status_code == 200
        assert client.get("/auditoria/", query_string={"from": value, "to": value}).status_code == 200


@pytest.mark.parametrize("number", [str(2**31), str(2**63), "9" * 30, "²", "٣", "-5", "1e9", "NaN"])
def test_number_fields_of_the_settings_forms_take_any_number_shaped_text(client, login_as, portfolio, number):
    login_as("admin")
    branch = portfolio["branch"]
    cases = [
        (f"/cobranca/parametros/{branch}", {"enabled": "y", "handle_by_title": "sim", "grouping": "client",
                                            "run_time": "06:00", "days_to_execute": number,
                                            "max_concurrency": number, "rate_limit_per_s": number}),
        (f"/cobranca/parametros/{branch}", {"handle_by_title": "sim", "grouping": "client", "run_time": "06:00",
                                            "days_to_execute": "90", "max_concurrency": "4",
                                            "rate_limit_per_s": number}),
        (f"/configuracoes/filiais/{branch}/politica-de-consultas",
         {"reuse_days": number, "monthly_quota": number, "cost_per_consultation": "1,00", "retention_days": number,
          "approve_min_score": number, "reject_below_score": number, "overdue_block_days": number}),
        (f"/negativacoes/politicas/{branch}", {"min_amount": number, "prescription_years": number,
                                               "notice_days": number}),
        (f"/credito/politicas/{branch}", {"restore_mode": "on_payment", "installment_terms": f"{number}, 30/{number}",
                                          "reservation_business_days": number}),
        (f"/credito/clientes/{portfolio['party']}/limite", {"limit": number, "tolerance_pct": number, "reason": "x"}),
        ("/configuracoes/usuarios/novo", {"username": "u" + number[:5], "name": "N", "role": "viewer",
                                          "password": number}),
    ]
    for url, data in cases:
        resp = client.post(url, data=data)
        assert resp.status_code < 500, (url, number)
