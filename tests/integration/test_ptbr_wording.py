"""Numbers a person reads are pt-BR and results are Portuguese words: the limit form and its
history, the platform deliveries, the purchase authorisation page (labels, "Somente simular",
the client's branch by default), a raised reservation's message, and the reservation's validity
in business days (rule 22)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.db import transaction
from app.services.core.clock import BR_TZ
from app.services.core.errors import Conflict
from app.services.credit import purchases

from .credit_support import CPF, FINANCE, make_branch, make_client, set_policy


@pytest.fixture
def branch_id(services):
    make_branch(services, cnpj="11444777000161", name="Filial Campinas")  # first by name: not the client's
    bid = make_branch(services, name="Matriz")
    set_policy(services, bid, tolerance_enabled=True, platform_url="https://plataforma.exemplo.com.br/erp",
               platform_secret="segredo")
    return bid


def test_limit_form_history_and_deliveries_read_in_pt_br(client, services, login_as, branch_id):
    party_id = make_client(services, branch_id)
    login_as("finance")
    resp = client.post(f"/credito/clientes/{party_id}/limite",
                       data={"limit": "5.000,00", "tolerance_pct": "10", "reason": "análise"})
    assert resp.status_code == 302
    page = client.get(f"/credito/clientes/{party_id}").get_data(as_text=True)
    assert 'value="5.000,00"' in page and 'value="10,00"' in page
    assert "0,00% → 10,00%" in page and "5000.00" not in page and "10.00%" not in page
    login_as("admin")
    deliveries = client.get("/credito/entregas").get_data(as_text=True)
    assert "limite R$ 5.000,00 · disponível R$ 5.000,00" in deliveries


def test_purchase_page_speaks_portuguese_and_defaults_to_the_clients_branch(client, services, login_as,
                                                                             branch_id):
    make_client(services, branch_id, limit="1000.00")
    login_as("finance")
    form = {"branch_id": "", "document": CPF, "amount": "400,00", "method": "boleto_faturado"}
    page = client.post("/credito/simular", data={**form, "dry_run": "y"}).get_data(as_text=True)
    assert "Aprovada, valor reservado no limite" in page and "Simulação: nada foi reservado" in page
    assert "o valor foi reservado" not in page and "reserved" not in page
    assert "APV — aprovado" in page
    page = client.post("/credito/simular", data={**form, "amount": "2.000,00"}).get_data(as_text=True)
    assert "Negada: limite insuficiente" in page and "insufficient_credit" not in page
    page = client.post("/credito/simular", data={**form, "document": "11144477735"}).get_data(as_text=True)
    assert "Negada: cliente não encontrado" in page and "customer_not_found" not in page
    blank_form = client.get("/credito/simular").get_data(as_text=True)
    assert "Filial do cliente" in blank_form and " selected>Filial Campinas" not in blank_form


def test_raising_a_reservation_reports_the_total_not_the_increase(services, branch_id):
    make_client(services, branch_id, limit="8000.00")
    with transaction(services.session_factory) as s:
        rid = purchases.authorise(s, FINANCE, branch_id=branch_id, document=CPF, amount="2000,00",
                                  method="boleto_faturado", order_ref="PED-9").reservation.id
    with pytest.raises(Conflict) as exc, transaction(services.session_factory) as s:
        purchases.change_amount(s, FINANCE, rid, "9.000,00")
    assert exc.value.message == ("Limite de crédito insuficiente: o pedido PED-9 pode ir até R$ 8.000,00; "
                                 "pedido de R$ 9.000,00 (aumento de R$ 7.000,00).")


@pytest.mark.parametrize(("bought", "lapses"), [
    (dt.datetime(2026, 11, 27, 15, 0), dt.date(2026, 12, 5)),  # Friday: until the next Friday, inclusive
    (dt.datetime(2026, 11, 30, 9, 0), dt.date(2026, 12, 8)),  # Monday: until Monday
    (dt.datetime(2026, 11, 18, 10, 0), dt.date(2026, 11, 27)),  # Nov 20 (Consciência Negra) is not counted
])
def test_reservation_lasts_business_days_of_the_branch(bought, lapses):
    expires = purchases.reservation_expiry(bought.replace(tzinfo=BR_TZ), 5, "SP")
    assert expires == dt.datetime.combine(lapses, dt.time(), BR_TZ)
