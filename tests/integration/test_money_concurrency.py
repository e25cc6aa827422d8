"""Money and status of a title under parallel requests, on SQLite and PostgreSQL.

20 requests at once through the API (each thread its own client, connection and transaction);
afterwards the title's invariants hold: amount received = sum of its payments, open = amount −
received (0 when cancelled or renegotiated), status derived from them, never more received than
owed. Without the row lock on SQLite, two payments of 60.00 on a 100.00 title were both recorded.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from app.models import Payment, Title
from app.models.titles import TitleStatus

from .titles_support import world

PARALLEL = 20


def fire(app, headers, requests: list[tuple[str, dict | None]], method: str = "post") -> list[int]:
    """Send every (url, body) at the same moment (POST unless `method`); the HTTP statuses, in order."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int | None] = [None] * len(requests)
    errors: list[BaseException] = []

    def run(i: int, url: str, body: dict | None) -> None:
        try:
            client = app.test_client()
            barrier.wait(timeout=20)
            statuses[i] = client.open(url, method=method.upper(), json=body or {}, headers=headers).status_code
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, url, body)) for i, (url, body) in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return statuses


def check_invariants(services, title_id: int) -> Title:
    with services.session_factory() as s:
        title = s.get(Title, title_id)
        paid = sum((p.amount for p in s.query(Payment).filter_by(title_id=title_id)), Decimal("0.00"))
        assert title.amount_received == paid
        assert title.amount_received <= title.amount
        if title.status in (TitleStatus.CANCELLED.value, TitleStatus.RENEGOTIATED.value):
            assert title.open_amount == Decimal("0.00")
        else:
            assert title.open_amount == title.amount - title.amount_received
            expected = ("open" if paid == 0 else "paid" if title.open_amount == 0 else "partial")
            assert title.status == expected
        return title


@pytest.fixture
def finance(api_token):
    return api_token("finance")


def test_twenty_parallel_payments_never_overpay(app, services, finance):
    _, _, (title_id,) = world(services, titles=(("RACE-1", 10),))
    url = f"/api/v1/titles/{title_id}/payments"
    statuses = fire(app, finance, [(url, {"amount": "10.00"})] * PARALLEL)
    assert sorted(statuses) == [201] * 10 + [409] * 10  # 10 × 10.00 pay the 100.00 title; then it is paid
    title = check_invariants(services, title_id)
    assert (title.status, title.amount_received, title.open_amount) == ("paid", Decimal("100.00"), Decimal("0.00"))


def test_two_payments_of_sixty_on_a_hundred_record_one(app, services, finance):
    _, _, (title_id,) = world(services, titles=(("RACE-2", 10),))
    url = f"/api/v1/titles/{title_id}/payments"
    for _ in range(3):  # the race that recorded 120.00 in 7 of 10 trials
        statuses = fire(app, finance, [(url, {"amount": "60.00"})] * 2)
        title = check_invariants(services, title_id)
        if title.amount_received:
            break
    assert sorted(statuses) == [201, 422]
    assert (title.status, title.amount_received, title.open_amount) == ("partial", Decimal("60.00"), Decimal("40.00"))


def test_parallel_cancellations_and_payments_leave_a_consistent_title(app, services, finance):
    _, _, (title_id,) = world(services, titles=(("RACE-3", 10),))
    pay, cancel = f"/api/v1/titles/{title_id}/payments", f"/api/v1/titles/{title_id}/cancel"
    requests = [(pay, {"amount": "10.00"}) if i % 2 else (cancel, {"reason": "teste"}) for i in range(PARALLEL)]
    statuses = fire(app, finance, requests)
    cancels = [s for (url, _), s in zip(requests, statuses, strict=True) if url == cancel]
    assert cancels.count(200) == 1 and all(s in (200, 409) for s in cancels)  # one cancellation wins
    title = check_invariants(services, title_id)
    assert title.status == "cancelled" and title.open_amount == Decimal("0.00")


def test_parallel_renegotiations_record_one(app, services, finance):
    _, _, (title_id,) = world(services, titles=(("RACE-4", 10),))
    statuses = fire(app, finance, [(f"/api/v1/titles/{title_id}/renegotiate", {"note": "acordo"})] * PARALLEL)
    assert sorted(statuses) == [200] + [409] * (PARALLEL - 1)
    title = check_invariants(services, title_id)
    assert (title.status, title.open_amount) == ("renegotiated", Decimal("0.00"))
