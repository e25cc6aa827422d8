"""Two authorisations at once against one limit never exceed it beyond its tolerance (rule 20).

Each authorisation runs in its own thread, session and connection. The credit check is slowed
down on purpose, so that without the account lock both threads would read the same used credit
and both approve. PostgreSQL is the case that matters (row lock, READ COMMITTED); SQLite, where
writers are serialised, runs too; the PostgreSQL runs carry the `postgres` mark (conftest's
`backend` fixture).
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from app.db import transaction
from app.services.credit import accounts as credit_accounts
from app.services.credit import purchases

from .credit_support import CPF, FINANCE, make_branch, make_client, set_policy, summary


@pytest.fixture
def slow_check(monkeypatch):
    original = credit_accounts.summary_for

    def slow(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(0.3)  # wide window between the check and the insert
        return result

    monkeypatch.setattr(credit_accounts, "summary_for", slow)


def race(services, branch_id, amounts: list[str]) -> list[purchases.Authorization]:
    barrier = threading.Barrier(len(amounts))
    results: list = [None] * len(amounts)
    errors: list[BaseException] = []

    def run(i: int, amount: str) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction(services.session_factory) as s:
                results[i] = purchases.authorise(s, FINANCE, branch_id=branch_id, document=CPF, amount=amount,
                                                 method="boleto_faturado")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(amounts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def test_two_authorisations_against_one_limit(services, slow_check):
    branch_id = make_branch(services)
    set_policy(services, branch_id)
    party_id = make_client(services, branch_id, limit="1000.00")
    results = race(services, branch_id, ["700.00", "700.00"])
    assert sorted(r.code for r in results) == ["insufficient_credit", "reserved"]
    denied = next(r for r in results if not r.approved)
    assert denied.available == Decimal("300.00")
    assert summary(services, party_id).used == Decimal("700.00")


def test_tolerance_is_the_ceiling_under_concurrency(services, slow_check):
    branch_id = make_branch(services)
    set_policy(services, branch_id, tolerance_enabled=True)
    party_id = make_client(services, branch_id, limit="1000.00", tolerance="10")
    results = race(services, branch_id, ["560.00", "560.00", "540.00"])
    used = summary(services, party_id).used
    assert used <= Decimal("1100.00")
    assert sum(r.amount for r in results if r.approved) == used
    assert [r.approved for r in results].count(True) == 2  # 560 + 540 = 1100 fits, 560 + 560 + … does not


def test_limit_change_and_authorisation_do_not_interleave(services, slow_check):
    branch_id = make_branch(services)
    set_policy(services, branch_id)
    party_id = make_client(services, branch_id, limit="1000.00")
    barrier = threading.Barrier(2)
    outcome = {}

    def lower_limit():
        barrier.wait(timeout=10)
        time.sleep(0.1)  # the authorisation takes the lock first
        with transaction(services.session_factory) as s:
            credit_accounts.set_limit(s, FINANCE, party_id, "100.00", "redução")

    def buy():
        barrier.wait(timeout=10)
        with transaction(services.session_factory) as s:
            outcome["result"] = purchases.authorise(s, FINANCE, branch_id=branch_id, document=CPF, amount="900.00",
                                                    method="boleto_faturado")

    threads = [threading.Thread(target=lower_limit), threading.Thread(target=buy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcome["result"].approved  # it held the lock: the limit was 1000 when it checked
    credit = summary(services, party_id)
    assert (credit.limit, credit.used) == (Decimal("100.00"), Decimal("900.00"))
