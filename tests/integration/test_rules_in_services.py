"""Rules that used to live in views and templates, now in services: held credit titles, the client
found by document, the default payment date, the negativation lists and their keyset pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from app.db import transaction
from app.models import Negativation, Payment, Title
from app.services.credit import account_list as credit_account_list
from app.services.credit import accounts as credit_accounts
from app.services.crm.parties import client_id_by_document
from app.services.negativations import listing
from app.services.titles import lifecycle as titles
from app.services.titles import payments
from tests.clock import pin_clock

from . import credit_support
from .titles_support import CPF_OK, CPF_OK_2, FINANCE, TODAY, make_branch, make_client, world


def _credit_title(s, branch_id, party_id, number, amount="400.00"):
    title = Title(branch_id=branch_id, party_id=party_id, number=number, issue_date=dt.date(2025, 1, 1),
                  due_date=dt.date(2025, 2, 1), amount=Decimal(amount), open_amount=Decimal(amount),
                  status="open", origin="credit_purchase")
    s.add(title)
    s.flush()
    return title.id


def test_held_titles_are_the_cancelled_unreleased_ones_where_the_branch_restores_on_payment(services):
    branch_id = credit_support.make_branch(services)
    credit_support.set_policy(services, branch_id, restore_mode="payment")
    party_id = credit_support.make_client(services, branch_id, limit="1000.00")
    with transaction(services.session_factory) as s:
        held, released, open_ = (_credit_title(s, branch_id, party_id, n) for n in ("C-1", "C-2", "C-3"))
    with transaction(services.session_factory) as s:
        titles.cancel_title(s, FINANCE, held, "devolvido")
        titles.cancel_title(s, FINANCE, released, "devolvido")
    with transaction(services.session_factory) as s:
        credit_accounts.release_title(s, FINANCE, released, "devolução confirmada")
    with services.session_factory() as s:
        assert [t.number for t in credit_accounts.held_titles(s, party_id, "payment")] == ["C-1"]
        assert credit_accounts.held_titles(s, party_id, "payment_and_cancellation") == []
        assert [t.id for t in credit_accounts.open_credit_titles(s, party_id)] == [open_]
        # The tab's summary and the accounts list count the same held amount.
        assert credit_support.summary(services, party_id).titles_held == Decimal("400.00")
        [row] = credit_account_list.search_accounts(s)
        assert (row.used, row.available) == (Decimal("800.00"), Decimal("200.00"))
    credit_support.set_policy(services, branch_id, restore_mode="payment_and_cancellation")
    with services.session_factory() as s:
        assert credit_support.summary(services, party_id).titles_held == Decimal("0.00")
        assert credit_account_list.search_accounts(s)[0].used == Decimal("400.00")


def test_client_by_document_finds_only_clients_and_respects_the_branch(services):
    with transaction(services.session_factory) as s:
        main = make_branch(s, services.box)
        other = make_branch(s, services.box, cnpj="11444777000161", name="Filial 2")
        client = make_client(s, main)
        make_client(s, other, document=CPF_OK_2, stage="lead")
        ids = (main.id, other.id, client.id)
    main_id, other_id, client_id = ids
    with services.session_factory() as s:
        assert client_id_by_document(s, "529.982.247-25") == client_id
        assert client_id_by_document(s, CPF_OK, branch_id=main_id) == client_id
        assert client_id_by_document(s, CPF_OK, branch_id=other_id) is None
        assert client_id_by_document(s, CPF_OK_2) is None  # a lead is not a client
        assert client_id_by_document(s, "123") is None  # an invalid document finds nobody


def test_a_payment_without_a_date_is_paid_today_in_the_service_and_the_api_and_asked_for_on_the_web(
        services, client, login_as, api_token):
    _, _, ids = world(services, titles=(("D-1", 10), ("D-2", 10), ("D-3", 10)))
    with pin_clock(TODAY):
        with transaction(services.session_factory) as s:
            payments.register_payment(s, FINANCE, ids[0], "10,00")
        # The web form comes filled with today; a person who emptied it is asked, never assumed.
        resp = login_as("finance").post(f"/titulos/{ids[1]}/pagamentos", data={"amount": "10,00", "paid_on": ""})
        assert resp.status_code == 422 and "Informe a data do crédito" in resp.get_data(as_text=True)
        api = client.post(f"/api/v1/titles/{ids[2]}/payments", json={"amount": "10.00"},
                          headers=api_token("finance"))
        assert api.status_code == 201 and api.get_json()["payment"]["paid_on"] == TODAY.isoformat()
    with services.session_factory() as s:
        paid = {p.title_id: p.paid_on for p in s.scalars(select(Payment))}
    assert paid == {ids[0]: TODAY, ids[2]: TODAY}


def _negativation(s, party, number: int, status: str) -> int:
    neg = Negativation(party_id=party.id, branch_id=party.branch_id, restriction_code="R1", document=party.document,
                       document_type="CPF", idempotency_key=f"key-{number}", requested_by="fabio", status=status,
                       payload={}, total_amount=Decimal("10.00"))
    s.add(neg)
    s.flush()
    return neg.id


def test_negativation_lists_page_by_id_newest_first(services):
    statuses = ["pending", "notice", "active", "error", "removal_pending", "removed", "active"]
    with transaction(services.session_factory) as s:
        party = make_client(s, make_branch(s, services.box))
        ids = [_negativation(s, party, n, status) for n, status in enumerate(statuses)]
        party_id = party.id
    with services.session_factory() as s:
        first = listing.list_negativations(s, limit=3)
        assert [n.id for n in first.items] == ids[:-4:-1] and first.next_before_id == ids[-3]
        second = listing.list_negativations(s, before_id=first.next_before_id, limit=3)
        third = listing.list_negativations(s, before_id=second.next_before_id, limit=3)
        assert [n.id for n in second.items + third.items] == ids[-4::-1] and third.next_before_id is None
        assert [n.id for n in listing.list_negativations(s, status="active").items] == [ids[6], ids[2]]
        assert [n.id for n in listing.removable_of_party(s, party_id)] == [ids[6], ids[2], ids[1], ids[0]]
        assert listing.policy_branch_id(s, first.items) == party.branch_id


def test_the_policy_link_opens_an_existing_branch_or_none(services):
    with services.session_factory() as s:
        assert listing.policy_branch_id(s, []) is None
    with transaction(services.session_factory) as s:
        make_branch(s, services.box, name="Zeta", cnpj="11444777000161")
        alpha = make_branch(s, services.box, name="Alfa").id
    with services.session_factory() as s:
        assert listing.policy_branch_id(s, []) == alpha  # the first branch by name
