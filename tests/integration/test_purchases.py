"""Purchase authorisation, reservation, settlement and cancellation (rules 19, 20, 22)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import CreditRelease, Reservation, Title
from app.services.core.clock import now_utc
from app.services.core.errors import Conflict, ValidationError
from app.services.credit import purchases
from app.services.titles import lifecycle as titles

from .credit_support import ADMIN, CPF, FINANCE, make_branch, make_client, set_policy, summary

RPV_TEXT = "Seu cadastro não foi aprovado para este sortimento"


@pytest.fixture
def branch_id(services):
    bid = make_branch(services)
    set_policy(services, bid)
    return bid


def authorise(services, branch_id, amount, method="boleto_faturado", document=CPF, **kw):
    with transaction(services.session_factory) as s:
        return purchases.authorise(s, FINANCE, branch_id=branch_id, document=document, amount=amount, method=method,
                                   **kw)


def reservations(services) -> list[Reservation]:
    with services.session_factory() as s:
        return list(s.scalars(select(Reservation).order_by(Reservation.id)))


def purchase_titles(services, reservation_id) -> list[Title]:
    with services.session_factory() as s:
        return list(s.scalars(select(Title).where(Title.purchase_id == reservation_id).order_by(Title.id)))


@pytest.mark.parametrize("method", ["pix", "cartao", "boleto_antecipado", "boleto_faturado"])
def test_rpv_buys_nothing_and_sees_the_seed_message(services, branch_id, method):
    make_client(services, branch_id, status="RPV", limit="5000")
    result = authorise(services, branch_id, "10.00", method)
    assert (result.approved, result.code, result.message) == (False, "customer_rejected", RPV_TEXT)
    assert reservations(services) == []


def test_pen_buys_up_front_only(services, branch_id):
    make_client(services, branch_id, status="PEN", limit="5000")
    for method in ("pix", "cartao", "boleto_antecipado"):
        result = authorise(services, branch_id, "99.90", method)
        assert (result.approved, result.code) == (True, "approved")
    result = authorise(services, branch_id, "99.90")
    assert (result.approved, result.code) == (False, "approval_required")
    assert "exige cadastro aprovado (APV)" in result.message
    assert reservations(services) == []


def test_branch_can_forbid_pen_from_buying(services, branch_id):
    set_policy(services, branch_id, pen_can_buy_upfront=False)
    make_client(services, branch_id, status="PEN")
    result = authorise(services, branch_id, "50", "pix")
    assert (result.approved, result.code) == (False, "pending_purchases_disabled")


def test_apv_within_limit_reserves_with_expiry_and_beyond_is_denied_with_available(services, branch_id):
    party_id = make_client(services, branch_id, limit="1000.00")
    before = now_utc()
    ok = authorise(services, branch_id, "600.00", order_ref="PED-1")
    assert (ok.approved, ok.code, ok.available) == (True, "reserved", Decimal("400.00"))
    [reservation] = reservations(services)
    assert (reservation.order_ref, reservation.amount, reservation.status) == ("PED-1", Decimal("600.00"), "active")
    # Rule 22: five business days of the branch (SP), until the end of the fifth.
    assert reservation.expires_at == purchases.reservation_expiry(before, 5, "SP")
    assert summary(services, party_id).available == Decimal("400.00")
    denied = authorise(services, branch_id, "400.01")
    assert (denied.approved, denied.code, denied.available) == (False, "insufficient_credit", Decimal("400.00"))
    assert denied.message == "Limite de crédito insuficiente: disponível R$ 400,00 para um pedido de R$ 400,01."
    assert authorise(services, branch_id, "400.00").approved  # exactly the available amount is fine


def test_limit_zero_blocks_invoiced_boleto_but_not_up_front(services, branch_id):
    make_client(services, branch_id, limit="0")
    denied = authorise(services, branch_id, "1.00")
    assert (denied.approved, denied.code) == (False, "no_credit_limit")
    assert authorise(services, branch_id, "1.00", "pix").approved


def test_apv_without_account_has_no_limit(services, branch_id):
    make_client(services, branch_id)
    assert authorise(services, branch_id, "1.00").code == "no_credit_limit"


def test_unknown_customer_and_lead_are_denied(services, branch_id):
    assert authorise(services, branch_id, "1.00", "pix").code == "customer_not_found"
    make_client(services, branch_id, stage="lead", status="APV")
    assert authorise(services, branch_id, "1.00", "pix").code == "customer_not_found"


def test_invalid_input_is_a_validation_error(services, branch_id):
    make_client(services, branch_id, limit="100")
    with pytest.raises(ValidationError) as exc:
        authorise(services, branch_id, "-1", "cheque", document="123")
    assert set(exc.value.field_errors) == {"amount", "method", "document"}


def test_tolerance_allows_going_over_only_when_the_branch_enables_it(services, branch_id):
    set_policy(services, branch_id, tolerance_enabled=True)
    party_id = make_client(services, branch_id, limit="1000.00", tolerance="10")
    assert authorise(services, branch_id, "1100.00").approved
    assert summary(services, party_id).used == Decimal("1100.00")
    assert summary(services, party_id).available == Decimal("0.00")
    assert authorise(services, branch_id, "0.01").code == "insufficient_credit"
    set_policy(services, branch_id, tolerance_enabled=False)
    with pytest.raises(ValidationError):  # a tolerance cannot be set while the branch has it off
        make_client(services, branch_id, document="11144477735", limit="10", tolerance="5")


def test_tolerance_switched_off_is_not_applied(services, branch_id):
    set_policy(services, branch_id, tolerance_enabled=True)
    make_client(services, branch_id, limit="1000.00", tolerance="10")
    set_policy(services, branch_id, tolerance_enabled=False)
    assert authorise(services, branch_id, "1000.01").code == "insufficient_credit"


def test_duplicate_order_reference_is_refused(services, branch_id):
    make_client(services, branch_id, limit="1000")
    authorise(services, branch_id, "10", order_ref="PED-9")
    with pytest.raises(Conflict) as exc:
        authorise(services, branch_id, "10", order_ref="PED-9")
    assert exc.value.code == "duplicate_order"


def test_changes_before_settlement_change_the_reservation(services, branch_id):
    party_id = make_client(services, branch_id, limit="1000.00")
    rid = authorise(services, branch_id, "500.00").reservation.id
    with transaction(services.session_factory) as s:
        purchases.change_amount(s, FINANCE, rid, "800.00")
    assert summary(services, party_id).reserved == Decimal("800.00")
    with pytest.raises(Conflict) as exc, transaction(services.session_factory) as s:
        purchases.change_amount(s, FINANCE, rid, "1000.01")
    assert exc.value.code == "insufficient_credit"
    with transaction(services.session_factory) as s:
        purchases.change_amount(s, FINANCE, rid, "250.00")
    assert summary(services, party_id).reserved == Decimal("250.00")
    assert purchase_titles(services, rid) == []


def test_settlement_on_30_60_90_creates_exact_titles(services, branch_id):
    party_id = make_client(services, branch_id, limit="2000.00")
    rid = authorise(services, branch_id, "1000.00", order_ref="PED-100").reservation.id
    with transaction(services.session_factory) as s:
        purchases.settle(s, FINANCE, rid, installment_term="30/60/90", invoice_date=dt.date(2025, 1, 31))
    rows = purchase_titles(services, rid)
    assert [(t.number, t.issue_date, t.due_date, t.amount, t.open_amount, t.status, t.origin) for t in rows] == [
        ("PED-100/1", dt.date(2025, 1, 31), dt.date(2025, 3, 2), Decimal("333.34"), Decimal("333.34"), "open",
         "credit_purchase"),
        ("PED-100/2", dt.date(2025, 1, 31), dt.date(2025, 4, 1), Decimal("333.33"), Decimal("333.33"), "open",
         "credit_purchase"),
        ("PED-100/3", dt.date(2025, 1, 31), dt.date(2025, 5, 1), Decimal("333.33"), Decimal("333.33"), "open",
         "credit_purchase"),
    ]
    assert sum(t.amount for t in rows) == Decimal("1000.00")
    [reservation] = reservations(services)
    assert (reservation.status, reservation.installment_term, reservation.invoice_date) == (
        "settled", "30/60/90", dt.date(2025, 1, 31))
    credit = summary(services, party_id)  # the reservation became titles: used is unchanged
    assert (credit.reserved, credit.titles_open, credit.available) == (
        Decimal("0.00"), Decimal("1000.00"), Decimal("1000.00"))
    with pytest.raises(Conflict), transaction(services.session_factory) as s:
        purchases.settle(s, FINANCE, rid, installment_term="30/60/90")


def test_settlement_refuses_a_term_the_branch_does_not_offer(services, branch_id):
    make_client(services, branch_id, limit="2000.00")
    rid = authorise(services, branch_id, "100.00").reservation.id
    with pytest.raises(ValidationError) as exc, transaction(services.session_factory) as s:
        purchases.settle(s, FINANCE, rid, installment_term="30/60/90/120")
    assert exc.value.code == "invalid_term"


def test_decrease_after_settlement_updates_the_open_titles(services, branch_id):
    party_id = make_client(services, branch_id, limit="2000.00")
    rid = authorise(services, branch_id, "1000.00", order_ref="PED-7").reservation.id
    with transaction(services.session_factory) as s:
        purchases.settle(s, FINANCE, rid, installment_term="30/60/90", invoice_date=dt.date(2025, 1, 10))
        purchases.change_amount(s, FINANCE, rid, "700.00")  # 300 off the last installment
    assert [(t.amount, t.open_amount, t.status) for t in purchase_titles(services, rid)] == [
        (Decimal("333.34"), Decimal("333.34"), "open"), (Decimal("333.33"), Decimal("333.33"), "open"),
        (Decimal("33.33"), Decimal("33.33"), "open")]
    with transaction(services.session_factory) as s:
        purchases.change_amount(s, FINANCE, rid, "500.00")  # the last goes, then 166.67 off the second
    rows = purchase_titles(services, rid)
    assert [(t.amount, t.open_amount, t.status) for t in rows] == [
        (Decimal("333.34"), Decimal("333.34"), "open"), (Decimal("166.66"), Decimal("166.66"), "open"),
        (Decimal("33.33"), Decimal("0.00"), "cancelled")]
    with services.session_factory() as s:  # a decrease always gives the credit back, whatever the mode
        assert s.scalar(select(CreditRelease.title_id)) == rows[2].id
    assert summary(services, party_id).used == Decimal("500.00")
    from app.services.titles.payments import register_payment

    with transaction(services.session_factory) as s:
        register_payment(s, FINANCE, rows[0].id, "333.34", dt.date(2025, 2, 9), today=dt.date(2025, 2, 9))
    with pytest.raises(Conflict) as exc, transaction(services.session_factory) as s:
        purchases.change_amount(s, FINANCE, rid, "300.00")  # 200 off, but only 166.66 is still open
    assert exc.value.code == "decrease_exceeds_open"
    with pytest.raises(ValidationError), transaction(services.session_factory) as s:
        purchases.change_amount(s, FINANCE, rid, "0.00")


def test_increase_after_settlement_issues_new_titles(services, branch_id):
    party_id = make_client(services, branch_id, limit="2000.00")
    rid = authorise(services, branch_id, "900.00", order_ref="PED-8").reservation.id
    with transaction(services.session_factory) as s:
        purchases.settle(s, FINANCE, rid, installment_term="30/60/90", invoice_date=dt.date(2025, 1, 10))
        purchases.change_amount(s, FINANCE, rid, "1000.00", today=dt.date(2025, 2, 1))
    rows = purchase_titles(services, rid)
    assert [(t.number, t.due_date, t.amount) for t in rows[3:]] == [
        ("PED-8/4", dt.date(2025, 3, 3), Decimal("33.34")), ("PED-8/5", dt.date(2025, 4, 2), Decimal("33.33")),
        ("PED-8/6", dt.date(2025, 5, 2), Decimal("33.33"))]
    assert [t.amount for t in rows[:3]] == [Decimal("300.00")] * 3
    assert summary(services, party_id).used == Decimal("1000.00")
    with pytest.raises(Conflict) as exc, transaction(services.session_factory) as s:
        purchases.change_amount(s, FINANCE, rid, "3000.01")
    assert exc.value.code == "insufficient_credit"


def test_cancellation_before_settlement_releases(services, branch_id):
    party_id = make_client(services, branch_id, limit="1000.00")
    rid = authorise(services, branch_id, "1000.00").reservation.id
    assert authorise(services, branch_id, "1.00").code == "insufficient_credit"
    with transaction(services.session_factory) as s:
        purchases.cancel(s, FINANCE, rid, "pedido desistido")
    assert summary(services, party_id).available == Decimal("1000.00")
    assert authorise(services, branch_id, "1000.00").approved


@pytest.mark.parametrize(("mode", "available"), [("payment", "0.00"), ("payment_and_cancellation", "1000.00")])
def test_cancellation_after_settlement_restores_per_branch_mode(services, branch_id, mode, available):
    set_policy(services, branch_id, restore_mode=mode)
    party_id = make_client(services, branch_id, limit="1000.00")
    rid = authorise(services, branch_id, "1000.00").reservation.id
    with transaction(services.session_factory) as s:
        purchases.settle(s, FINANCE, rid, installment_term="30/60")
        purchases.cancel(s, FINANCE, rid, "devolução")
    assert {t.status for t in purchase_titles(services, rid)} == {"cancelled"}
    assert summary(services, party_id).available == Decimal(available)


@pytest.mark.parametrize(("mode", "after_cancel"), [("payment", "600.00"), ("payment_and_cancellation", "0.00")])
def test_payment_always_restores_cancellation_only_by_option(services, branch_id, mode, after_cancel):
    """Rule 21, through the ordinary title services: titles from purchases are ordinary titles."""
    from app.services.titles.payments import register_payment

    set_policy(services, branch_id, restore_mode=mode)
    party_id = make_client(services, branch_id, limit="1000.00")
    rid = authorise(services, branch_id, "900.00").reservation.id
    with transaction(services.session_factory) as s:
        purchases.settle(s, FINANCE, rid, installment_term="30/60/90", invoice_date=dt.date(2025, 1, 10))
    first, second, third = purchase_titles(services, rid)
    with transaction(services.session_factory) as s:
        register_payment(s, FINANCE, first.id, "300.00", dt.date(2025, 2, 9), today=dt.date(2025, 2, 9))
    assert summary(services, party_id).used == Decimal("600.00")
    with transaction(services.session_factory) as s:
        titles.cancel_title(s, FINANCE, second.id, "erro de faturamento")
        titles.cancel_title(s, FINANCE, third.id, "erro de faturamento")
    assert summary(services, party_id).used == Decimal(after_cancel)


def test_expired_reservation_stops_counting_and_cannot_be_settled(services, branch_id):
    party_id = make_client(services, branch_id, limit="1000.00")
    rid = authorise(services, branch_id, "700.00").reservation.id
    later = now_utc() + dt.timedelta(days=15)  # past five business days, whatever the holidays
    with services.session_factory() as s:
        from app.models import Party
        from app.services.credit import accounts as credit_accounts

        assert credit_accounts.summary_for(s, s.get(Party, party_id), now=later).reserved == Decimal("0.00")
    with pytest.raises(Conflict) as exc, transaction(services.session_factory) as s:
        purchases.settle(s, FINANCE, rid, installment_term="28", now=later)
    assert exc.value.code == "reservation_expired"
    with transaction(services.session_factory) as s:
        assert purchases.expire_reservations(s, ADMIN, now=later) == 1
        assert purchases.expire_reservations(s, ADMIN, now=later) == 0
    assert [r.status for r in reservations(services)] == ["expired"]


def test_api_authorisation_and_settlement(client, services, api_token, branch_id):
    make_client(services, branch_id, limit="1000.00")
    headers = api_token("crm")
    raw = (f'{{"branch_id": {branch_id}, "document": "529.982.247-25", "amount": "1200.50", '
           '"method": "boleto_faturado"}')
    resp = client.post("/api/v1/credit/authorizations", headers=headers, data=raw, content_type="application/json")
    assert resp.status_code == 200
    assert resp.get_json()["code"] == "insufficient_credit"
    assert resp.get_json()["available"] == "1000.00"
    resp = client.post("/api/v1/credit/authorizations", headers=headers, json={
        "branch_id": branch_id, "document": CPF, "amount": "300.00", "method": "boleto_faturado",
        "order_ref": "API-1", "installment_term": "28"})
    body = resp.get_json()
    assert (body["approved"], body["code"], body["reservation"]["status"]) == (True, "reserved", "active")
    rid = body["reservation"]["id"]
    resp = client.post(f"/api/v1/credit/reservations/{rid}/settle", headers=headers,
                       json={"invoice_date": "2025-03-01"})
    assert resp.status_code == 200
    assert [(t["due_date"], t["amount"]) for t in resp.get_json()["titles"]] == [("2025-03-29", "300.00")]
    resp = client.post("/api/v1/credit/authorizations", headers=api_token("viewer"), json={})
    assert resp.status_code == 403


def test_simulate_form_reserves_or_only_simulates(client, services, login_as, branch_id):
    make_client(services, branch_id, limit="1000.00")
    login_as("finance")
    form = {"branch_id": str(branch_id), "document": CPF, "amount": "400,00", "method": "boleto_faturado",
            "installment_term": "30/60/90"}
    page = client.post("/credito/simular", data={**form, "dry_run": "y"}).get_data(as_text=True)
    assert "Aprovada" in page and "nada foi reservado" in page
    assert reservations(services) == []
    page = client.post("/credito/simular", data=form).get_data(as_text=True)
    assert "Aprovada" in page
    [reservation] = reservations(services)
    assert reservation.installment_term == "30/60/90"
    page = client.post("/credito/simular", data={**form, "amount": "700,00"}).get_data(as_text=True)
    assert "Negada" in page and "disponível R$ 600,00" in page
    login_as("crm")
    assert client.post("/credito/simular", data=form).status_code == 403


def test_reservations_page_settles_and_cancels(client, services, login_as, branch_id):
    make_client(services, branch_id, limit="1000.00")
    rid = authorise(services, branch_id, "300.00", order_ref="WEB-1").reservation.id
    login_as("finance")
    assert "WEB-1" in client.get("/credito/reservas").get_data(as_text=True)
    resp = client.post(f"/credito/reservas/{rid}/faturar", data={"installment_term": "30/60",
                                                                   "invoice_date": "2025-01-10"})
    assert resp.status_code == 302
    assert [t.amount for t in purchase_titles(services, rid)] == [Decimal("150.00")] * 2
    client.post(f"/credito/reservas/{rid}/cancelar", data={"reason": "teste"})
    assert {t.status for t in purchase_titles(services, rid)} == {"cancelled"}


def test_api_change_cancel_and_lookup_by_order(client, services, api_token, branch_id):
    party_id = make_client(services, branch_id, limit="1000.00")
    headers = api_token("crm")
    rid = authorise(services, branch_id, "100.00", order_ref="API-9").reservation.id
    resp = client.patch(f"/api/v1/credit/reservations/{rid}", headers=headers, json={"amount": "250"})
    assert resp.get_json()["amount"] == "250.00"
    resp = client.patch(f"/api/v1/credit/reservations/{rid}", headers=headers, json={"amount": "1000.01"})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "insufficient_credit"
    found = client.get(f"/api/v1/credit/reservations?branch_id={branch_id}&order_ref=API-9", headers=headers)
    assert [r["id"] for r in found.get_json()["items"]] == [rid]
    resp = client.post(f"/api/v1/credit/reservations/{rid}/cancel", headers=headers, json={"reason": "desistência"})
    assert resp.get_json()["status"] == "cancelled"
    assert summary(services, party_id).available == Decimal("1000.00")
    resp = client.post(f"/api/v1/credit/reservations/{rid}/cancel", headers=headers, json={})
    assert resp.status_code == 409


def test_expiry_job(services, branch_id):
    from scheduler.registry import JOBS, run_job
    from scheduler.runner import load_jobs

    make_client(services, branch_id, limit="1000.00")
    authorise(services, branch_id, "100.00")
    load_jobs()
    assert run_job(JOBS["credit_reservations_expiry"], services) == "expiradas=0"
    with transaction(services.session_factory) as s:
        s.execute(Reservation.__table__.update().values(expires_at=now_utc() - dt.timedelta(minutes=1)))
    assert run_job(JOBS["credit_reservations_expiry"], services) == "expiradas=1"
    assert [r.status for r in reservations(services)] == ["expired"]
