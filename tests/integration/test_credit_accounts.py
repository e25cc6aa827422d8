"""Credit accounts: limit and status changes with history and outbox (rule 21), available credit
(rule 20), restoring on payment, the client tab, the admin list and CSV, the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import (
    AuditEvent,
    CreditLimitChange,
    CustomerStatusChange,
    OutboundUpdate,
    Party,
    Title,
)
from app.services.core.errors import PermissionDenied, ValidationError
from app.services.credit import account_list as credit_account_list
from app.services.credit import accounts as credit_accounts
from app.services.credit import purchases
from app.services.titles.payments import register_payment
from integrations.commerce.samples import cnpj_for

from .credit_support import ADMIN, CPF, CRM, FINANCE, make_branch, make_client, set_policy, summary

PLATFORM = "http://127.0.0.1:5999/updates"


@pytest.fixture
def branch_id(services):
    bid = make_branch(services)
    set_policy(services, bid, platform_url=PLATFORM, platform_secret="segredo-hmac")
    return bid


def updates(services) -> list[OutboundUpdate]:
    with services.session_factory() as s:
        return list(s.scalars(select(OutboundUpdate).order_by(OutboundUpdate.id)))


def test_limit_change_is_recorded_and_queued_in_the_same_transaction(services, branch_id):
    party_id = make_client(services, branch_id, status="APV", external_id="PLT-1")
    with transaction(services.session_factory) as s:
        credit_accounts.set_limit(s, FINANCE, party_id, "1.500,00", "análise do balanço")
    with services.session_factory() as s:
        [change] = s.scalars(select(CreditLimitChange)).all()
        assert (change.actor, change.old_limit, change.new_limit, change.reason) == (
            "financeiro", Decimal("0.00"), Decimal("1500.00"), "análise do balanço")
        assert s.scalar(select(AuditEvent.summary).where(AuditEvent.action == "credit.limit")) == (
            "Limite de crédito de Cliente: R$ 0,00 → R$ 1.500,00")
    [update] = updates(services)
    assert (update.kind, update.status) == ("limit", "pending")
    assert update.payload == {"event": "credit_limit", "customer_id": "PLT-1", "document": CPF,
                              "branch_cnpj": "11222333000181", "status": "APV", "credit_limit": "1500.00",
                              "available_credit": "1500.00", "tolerance_pct": "0.00"}
    with pytest.raises(RuntimeError), transaction(services.session_factory) as s:  # rolled back: no update
        credit_accounts.set_limit(s, FINANCE, party_id, "2000", "outra")
        raise RuntimeError("falha depois da alteração")
    assert len(updates(services)) == 1
    assert summary(services, party_id).limit == Decimal("1500.00")


def test_newer_update_supersedes_a_pending_one(services, branch_id):
    party_id = make_client(services, branch_id, limit="100")
    with transaction(services.session_factory) as s:
        credit_accounts.set_limit(s, FINANCE, party_id, "200", "revisão")
    assert [(u.status, u.payload["credit_limit"]) for u in updates(services)] == [
        ("superseded", "100.00"), ("pending", "200.00")]


@pytest.mark.parametrize("actor", [CRM])
def test_only_finance_and_admin_change_limit_and_status(services, branch_id, actor):
    party_id = make_client(services, branch_id)
    with pytest.raises(PermissionDenied), transaction(services.session_factory) as s:
        credit_accounts.set_limit(s, actor, party_id, "100", "x")
    with pytest.raises(PermissionDenied), transaction(services.session_factory) as s:
        credit_accounts.set_status(s, actor, party_id, "APV", "x")
    with transaction(services.session_factory) as s:
        credit_accounts.set_limit(s, ADMIN, party_id, "100", "admin pode")


def test_limit_change_validates(services, branch_id):
    party_id = make_client(services, branch_id)
    with pytest.raises(ValidationError) as exc, transaction(services.session_factory) as s:
        credit_accounts.set_limit(s, FINANCE, party_id, "-1", "")
    assert set(exc.value.field_errors) == {"limit", "reason"}
    with pytest.raises(ValidationError) as exc, transaction(services.session_factory) as s:
        credit_accounts.set_limit(s, FINANCE, party_id, "10", "motivo", tolerance_pct="5")
    assert exc.value.field_errors == {"tolerance_pct": "A tolerância está desligada na política de crédito desta "
                                                       "filial."}
    set_policy(services, branch_id, tolerance_enabled=True, platform_url=PLATFORM)
    with pytest.raises(ValidationError), transaction(services.session_factory) as s:
        credit_accounts.set_limit(s, FINANCE, party_id, "10", "motivo", tolerance_pct="100.01")


def test_status_change_history_and_outbox(services, branch_id):
    party_id = make_client(services, branch_id, status="PEN", external_id="PLT-9")
    with transaction(services.session_factory) as s:
        assert credit_accounts.set_status(s, FINANCE, party_id, "APV", "consulta sem restrições")
        assert not credit_accounts.set_status(s, FINANCE, party_id, "APV", "de novo")
        credit_accounts.set_status(s, FINANCE, party_id, "RPV", "fraude")
    with services.session_factory() as s:
        history = [(c.from_status, c.to_status, c.actor, c.reason)
                   for c in s.scalars(select(CustomerStatusChange).order_by(CustomerStatusChange.id))]
        assert s.get(Party, party_id).status == "RPV"
    assert history == [("PEN", "APV", "financeiro", "consulta sem restrições"), ("APV", "RPV", "financeiro", "fraude")]
    assert [(u.kind, u.status, u.payload["status"]) for u in updates(services)] == [
        ("status", "superseded", "APV"), ("status", "pending", "RPV")]
    with pytest.raises(ValidationError), transaction(services.session_factory) as s:
        credit_accounts.set_status(s, FINANCE, party_id, "XYZ", "motivo")


def test_apply_credit_decision_sets_status_and_limit(services, branch_id):
    party_id = make_client(services, branch_id, status="PEN")
    with transaction(services.session_factory) as s:
        credit_accounts.apply_credit_decision(s, FINANCE, party_id, status="APV", limit="3000", reason="consulta #1")
    credit = summary(services, party_id)
    assert credit.limit == Decimal("3000.00")
    assert sorted(u.kind for u in updates(services)) == ["limit", "status"]


def test_no_outbox_when_the_branch_has_no_platform(services):
    bid = make_branch(services, cnpj="12345678000195", name="Sem plataforma")
    party_id = make_client(services, bid, limit="10")
    with transaction(services.session_factory) as s:
        credit_accounts.set_status(s, FINANCE, party_id, "RPV", "x")
    assert updates(services) == []


def _title(s, branch_id, party_id, number, amount, origin="credit_purchase", status="open"):
    s.add(Title(branch_id=branch_id, party_id=party_id, number=number, issue_date=dt.date(2025, 1, 1),
                due_date=dt.date(2025, 2, 1), amount=Decimal(amount), open_amount=Decimal(amount), status=status,
                origin=origin))


def test_available_is_limit_minus_open_credit_titles_minus_reservations(services, branch_id):
    party_id = make_client(services, branch_id, limit="1000.00")
    with transaction(services.session_factory) as s:
        _title(s, branch_id, party_id, "C-1", "200.00")
        _title(s, branch_id, party_id, "M-1", "999.00", origin="manual")  # an ISP bill: not a credit purchase
        _title(s, branch_id, party_id, "C-2", "50.00", status="paid")
        purchases.authorise(s, FINANCE, branch_id=branch_id, document=CPF, amount="300", method="boleto_faturado")
    credit = summary(services, party_id)
    assert (credit.titles_open, credit.reserved, credit.used, credit.available) == (
        Decimal("200.00"), Decimal("300.00"), Decimal("500.00"), Decimal("500.00"))


def test_payment_restores_the_limit_and_the_platform_hears_it(services, branch_id):
    party_id = make_client(services, branch_id, limit="1000.00")
    with transaction(services.session_factory) as s:
        _title(s, branch_id, party_id, "C-1", "400.00")
    with services.session_factory() as s:
        title_id = s.scalar(select(Title.id))
    with transaction(services.session_factory) as s:
        register_payment(s, FINANCE, title_id, "150.00", dt.date(2025, 2, 5), today=dt.date(2025, 2, 5))
    assert summary(services, party_id).available == Decimal("750.00")
    last = updates(services)[-1]
    assert (last.kind, last.status, last.payload["available_credit"]) == ("limit", "pending", "750.00")


def test_release_of_a_cancelled_title_in_payment_mode(services, branch_id):
    from app.services.titles import lifecycle as titles

    party_id = make_client(services, branch_id, limit="1000.00")
    with transaction(services.session_factory) as s:
        _title(s, branch_id, party_id, "C-1", "400.00")
    with services.session_factory() as s:
        title_id = s.scalar(select(Title.id))
    with transaction(services.session_factory) as s:
        titles.cancel_title(s, FINANCE, title_id, "pedido devolvido")
    assert summary(services, party_id).available == Decimal("600.00")  # restore on payment only
    with transaction(services.session_factory) as s:
        credit_accounts.release_title(s, FINANCE, title_id, "devolução confirmada")
    assert summary(services, party_id).available == Decimal("1000.00")
    with pytest.raises(Exception) as exc, transaction(services.session_factory) as s:
        credit_accounts.release_title(s, FINANCE, title_id, "de novo")
    assert getattr(exc.value, "code", "") == "already_restored"


def test_resend_limit_queues_the_current_value(services, branch_id):
    party_id = make_client(services, branch_id, limit="500")
    with transaction(services.session_factory) as s:
        credit_accounts.resend_limit(s, FINANCE, party_id)
    assert [(u.status, u.payload["credit_limit"]) for u in updates(services)] == [
        ("superseded", "500.00"), ("pending", "500.00")]


def test_client_tab_shows_credit_and_only_finance_changes_it(client, services, login_as, branch_id):
    party_id = make_client(services, branch_id, limit="1000.00", name="Mercado Azul")
    with transaction(services.session_factory) as s:
        _title(s, branch_id, party_id, "C-77", "250.00")
    login_as("viewer")
    page = client.get(f"/credito/clientes/{party_id}").get_data(as_text=True)
    assert "Limite de crédito" in page and "R$ 1.000,00" in page and "R$ 750,00" in page and "C-77" in page
    assert "Salvar limite" not in page
    assert client.post(f"/credito/clientes/{party_id}/limite", data={"limit": "1", "reason": "x"}).status_code == 403
    login_as("finance")
    resp = client.post(f"/credito/clientes/{party_id}/limite", data={"limit": "2.000,00", "reason": "aumento"})
    assert resp.status_code == 302
    resp = client.post(f"/credito/clientes/{party_id}/status", data={"status": "RPV", "status_reason": ""})
    assert resp.status_code == 422 and "Informe o motivo" in resp.get_data(as_text=True)
    client.post(f"/credito/clientes/{party_id}/reenviar")
    page = client.get(f"/credito/clientes/{party_id}").get_data(as_text=True)
    assert "R$ 2.000,00" in page and "aumento" in page
    assert summary(services, party_id).limit == Decimal("2000.00")


def test_admin_list_search_sort_and_csv_round_trip(client, services, login_as, branch_id):
    a = make_client(services, branch_id, name="Alfa Ltda", document="11144477735", limit="100")
    b = make_client(services, branch_id, name="Beta Ltda", document=CPF, limit="900")
    with transaction(services.session_factory) as s:
        _title(s, branch_id, b, "C-1", "850.00")
    with services.session_factory() as s:
        rows = credit_account_list.search_accounts(s, sort="available", descending=True)
        assert [(r.party_id, r.available) for r in rows] == [(a, Decimal("100.00")), (b, Decimal("50.00"))]
        assert [r.party_id for r in credit_account_list.search_accounts(s, q="beta")] == [b]
        assert [r.party_id for r in credit_account_list.search_accounts(s, q="ltda ALFA")] == [a]  # words, any order
        assert [r.party_id for r in credit_account_list.search_accounts(s, q="111.444")] == [a]
    login_as("finance")
    with client.get("/credito/contas/exportar.csv?sort=name") as resp:  # streamed: close to end the request
        csv_text = resp.get_data(as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0] == "documento;nome;filial_cnpj;status;limite;tolerancia_pct;utilizado;disponivel"
    assert lines[1] == "11144477735;Alfa Ltda;11222333000181;APV;100,00;0,00;0,00;100,00"
    edited = "\n".join([lines[0], lines[1].replace(";100,00;0,00;0,00;100,00", ";250,00;0,00;0,00;0,00"),
                        "00000000000;Fantasma;11222333000181;APV;10,00;0;0;0"])
    resp = client.post("/credito/contas/importar", data={"reason": "revisão anual", "file": (
        __import__("io").BytesIO(edited.encode()), "contas.csv")}, content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert "1 de 2 linhas aplicadas" in page and "CPF inválido" in page
    assert summary(services, a).limit == Decimal("250.00")
    page = client.get("/credito/contas?q=Alfa").get_data(as_text=True)
    assert "Alfa Ltda" in page and "Beta Ltda" not in page


def test_admin_list_pages_are_slices_of_the_whole_sorted_list_for_every_sort(services, branch_id):
    """Column sorts page their clients first and compute the used credit of that page alone; each
    page must still be the slice of the whole sorted list, ties broken by id, for every sort."""
    names = ["Delta", "Alfa", "Charlie", "Bravo", "Eco", "Foxtrot", "Golf"]
    limits = ["500", None, "100", "900", "100", "0", "250"]
    statuses = ["APV", "PEN", "APV", "RPV", "APV", "PEN", "APV"]
    ids = [make_client(services, branch_id, name=n, document=cnpj_for(i + 1), limit=lim, status=st)
           for i, (n, lim, st) in enumerate(zip(names, limits, statuses, strict=True))]
    used = {ids[0]: Decimal("120.00"), ids[3]: Decimal("900.00"), ids[6]: Decimal("10.00")}
    with transaction(services.session_factory) as s:
        for n, (party_id, amount) in enumerate(used.items()):
            _title(s, branch_id, party_id, f"C-{n}", str(amount))
    expected = {pid: {"name": n, "limit": Decimal(lim or "0"), "status": st, "used": used.get(pid, Decimal("0.00"))}
                for pid, n, lim, st in zip(ids, names, limits, statuses, strict=True)}
    for row in expected.values():
        row["available"] = max(row["limit"] - row["used"], Decimal("0"))
    with services.session_factory() as s:
        for sort in credit_account_list.SORTS:
            for descending in (False, True):
                order = sorted(sorted(ids), key=lambda pid, sort=sort: expected[pid][sort], reverse=descending)
                pages = [credit_account_list.search_accounts(s, sort=sort, descending=descending, limit=3, offset=o)
                         for o in (0, 3, 6)]
                got = [r for page in pages for r in page]
                assert [r.party_id for r in got] == order, (sort, descending)
                assert [r.used for r in got] == [expected[pid]["used"] for pid in order], (sort, descending)


def test_api_accounts(client, services, api_token, branch_id):
    party_id = make_client(services, branch_id, status="PEN")
    resp = client.put(f"/api/v1/credit/accounts/{party_id}/limit", headers=api_token("finance"),
                      json={"limit": "700.00", "reason": "api"})
    assert resp.status_code == 200 and resp.get_json()["available"] == "700.00"
    resp = client.put(f"/api/v1/credit/accounts/{party_id}/status", headers=api_token("crm"),
                      json={"status": "APV", "reason": "api"})
    assert resp.status_code == 403
    resp = client.put(f"/api/v1/credit/accounts/{party_id}/status", headers=api_token("admin"),
                      json={"status": "APV", "reason": "api"})
    assert resp.get_json()["status"] == "APV"
    resp = client.post(f"/api/v1/credit/accounts/{party_id}/resend", headers=api_token("finance"))
    assert resp.status_code == 202
    assert client.get(f"/api/v1/credit/accounts/{party_id}", headers=api_token("viewer")).get_json()["limit"] == (
        "700.00")


def test_policy_page_is_admin_only_and_keeps_the_secret_encrypted(client, services, login_as, branch_id):
    from app.models import CreditPolicy

    login_as("finance")
    assert client.get(f"/credito/politicas/{branch_id}").status_code == 403
    login_as("admin")
    form = {"pen_can_buy_upfront": "y", "restore_mode": "payment_and_cancellation", "installment_terms": "7, 30/60",
            "reservation_business_days": "3", "platform_url": "https://plataforma.exemplo.com.br/erp",
            "platform_secret": "novo-segredo", "protected_fields": ["email", "address"]}
    assert client.post(f"/credito/politicas/{branch_id}", data=form).status_code == 302
    with services.session_factory() as s:
        policy = s.get(CreditPolicy, branch_id)
        assert (policy.pen_can_buy_upfront, policy.tolerance_enabled, policy.restore_mode, policy.installment_terms,
                policy.reservation_business_days, policy.protected_fields) == (
            True, False, "payment_and_cancellation", ["7", "30/60"], 3, ["email", "address"])
        assert services.box.decrypt(policy.platform_secret_encrypted) == "novo-segredo"
    page = client.get(f"/credito/politicas/{branch_id}").get_data(as_text=True)
    assert "novo-segredo" not in page and policy.platform_secret_encrypted not in page
    resp = client.post(f"/credito/politicas/{branch_id}", data={**form, "installment_terms": "60/30"})
    assert resp.status_code == 200 and "crescentes" in resp.get_data(as_text=True)


def test_api_csv_export_and_import(client, services, api_token, branch_id):
    party_id = make_client(services, branch_id, limit="10", name="Cliente CSV")
    with client.get(f"/api/v1/credit/accounts.csv?branch_id={branch_id}", headers=api_token("viewer")) as resp:
        assert "Cliente CSV" in resp.get_data(as_text=True)
    body = f"documento;limite;status;motivo\n{CPF};1234,56;RPV;revisão\n"
    resp = client.post(f"/api/v1/credit/accounts/import?branch_id={branch_id}", headers=api_token("finance"),
                       data=body.encode(), content_type="text/csv")
    assert resp.get_json()["ok"] == 1
    credit = summary(services, party_id)
    assert credit.limit == Decimal("1234.56")
    with services.session_factory() as s:
        assert s.get(Party, party_id).status == "RPV"
    resp = client.post("/api/v1/credit/accounts/import", headers=api_token("crm"), data=body.encode())
    assert resp.status_code == 403


def test_csv_import_reads_any_line_end_and_refuses_what_csv_cannot_read(client, services, api_token, branch_id):
    party_id = make_client(services, branch_id, limit="10", name="Cliente CSV")
    url = f"/api/v1/credit/accounts/import?branch_id={branch_id}"
    old_mac = f"documento;limite\r{CPF};250,00\r".encode()  # bare CR line ends used to be a 500
    resp = client.post(url, headers=api_token("finance"), data=old_mac, content_type="text/csv")
    assert resp.status_code == 200 and resp.get_json()["ok"] == 1
    assert summary(services, party_id).limit == Decimal("250.00")
    huge = f"documento;limite\n{CPF};{'9' * 140_000}\n".encode()  # past the csv module's field limit
    resp = client.post(url, headers=api_token("finance"), data=huge, content_type="text/csv")
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_csv"
    assert summary(services, party_id).limit == Decimal("250.00")


def test_unchanged_values_are_not_sent_again(services, branch_id):
    party_id = make_client(services, branch_id, limit="1000.00")
    with transaction(services.session_factory) as s:
        _title(s, branch_id, party_id, "M-1", "80.00", origin="manual")  # an ISP bill, not credit
    with services.session_factory() as s:
        title_id = s.scalar(select(Title.id))
    with transaction(services.session_factory) as s:
        register_payment(s, FINANCE, title_id, "80.00", dt.date(2025, 2, 5), today=dt.date(2025, 2, 5))
        credit_accounts.on_titles_changed(s, party_id, FINANCE)
    assert [(u.status, u.payload["available_credit"]) for u in updates(services)] == [("pending", "1000.00")]
