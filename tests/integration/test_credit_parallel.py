"""Credit money and status under 20 parallel API requests, on SQLite and PostgreSQL.

Invariants checked afterwards: every limit or status change is in the history and chains with the
one before it (nothing lost in a race: each change's "before" is the previous change's "after");
authorisations never reserve beyond the limit; a reservation is settled into titles once.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models import CreditAccount, CreditLimitChange, CustomerStatusChange, Party, Reservation, Title

from .credit_support import CPF, make_branch, make_client, set_policy, summary
from .test_money_concurrency import PARALLEL, fire


@pytest.fixture
def finance(api_token):
    return api_token("finance")


@pytest.fixture
def branch_id(services):
    branch_id = make_branch(services)
    set_policy(services, branch_id)
    return branch_id


def test_parallel_limit_changes_chain_in_the_history(app, services, finance, branch_id):
    party_id = make_client(services, branch_id, limit="50.00")
    url = f"/api/v1/credit/accounts/{party_id}/limit"
    statuses = fire(app, finance, [(url, {"limit": f"{100 * (i + 1)}.00", "reason": f"revisão {i}"})
                                   for i in range(PARALLEL)], method="put")
    assert statuses == [200] * PARALLEL
    with services.session_factory() as s:
        account = s.scalar(select(CreditAccount).where(CreditAccount.party_id == party_id))
        history = list(s.scalars(select(CreditLimitChange).where(CreditLimitChange.account_id == account.id)
                                 .order_by(CreditLimitChange.id)))
    assert len(history) == PARALLEL + 1  # the initial limit and the twenty changes
    for before, after in zip(history, history[1:], strict=False):
        assert after.old_limit == before.new_limit
    assert account.credit_limit == history[-1].new_limit


def test_parallel_status_changes_chain_in_the_history(app, services, finance, branch_id):
    party_id = make_client(services, branch_id, status="PEN")
    url = f"/api/v1/credit/accounts/{party_id}/status"
    requests = [(url, {"status": ("APV", "RPV", "PEN")[i % 3], "reason": f"análise {i}"}) for i in range(PARALLEL)]
    statuses = fire(app, finance, requests, method="put")
    assert set(statuses) <= {200, 409, 422}
    with services.session_factory() as s:
        history = list(s.scalars(select(CustomerStatusChange).where(CustomerStatusChange.party_id == party_id)
                                 .order_by(CustomerStatusChange.id)))
        final = s.get(Party, party_id).status
    assert history, "at least one change went through"
    assert history[0].from_status == "PEN"
    for before, after in zip(history, history[1:], strict=False):
        assert after.from_status == before.to_status
    assert final == history[-1].to_status


def test_parallel_authorisations_never_reserve_beyond_the_limit(app, services, finance, branch_id):
    make_client(services, branch_id, limit="1000.00")
    body = {"branch_id": branch_id, "document": CPF, "amount": "100.00", "method": "boleto_faturado"}
    statuses = fire(app, finance, [("/api/v1/credit/authorizations", dict(body, order_ref=f"PED-{i}"))
                                   for i in range(PARALLEL)])
    assert statuses == [200] * PARALLEL
    with services.session_factory() as s:
        reserved = list(s.scalars(select(Reservation).where(Reservation.status == "active")))
        party_id = s.scalar(select(Party.id).where(Party.document == CPF))
    assert len(reserved) == 10 and sum((r.amount for r in reserved), Decimal("0")) == Decimal("1000.00")
    assert summary(services, party_id).available == Decimal("0.00")


def test_a_reservation_settled_by_twenty_requests_at_once_becomes_titles_once(app, services, finance, branch_id):
    party_id = make_client(services, branch_id, limit="1000.00")
    client = app.test_client()
    resp = client.post("/api/v1/credit/authorizations", headers=finance, json={
        "branch_id": branch_id, "document": CPF, "amount": "300.00", "method": "boleto_faturado",
        "order_ref": "PED-UNICO", "installment_term": "30/60/90"})
    reservation_id = resp.get_json()["reservation"]["id"]
    statuses = fire(app, finance, [(f"/api/v1/credit/reservations/{reservation_id}/settle", {})] * PARALLEL)
    assert statuses.count(200) == 1 and set(statuses) <= {200, 409}
    with services.session_factory() as s:
        titles = list(s.scalars(select(Title).where(Title.party_id == party_id)))
    assert len(titles) == 3 and sum((t.amount for t in titles), Decimal("0")) == Decimal("300.00")
