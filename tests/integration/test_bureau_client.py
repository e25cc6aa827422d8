"""CreditoNaMedidaClient over HTTP (mocked with `responses`): each call, the token, 401 handling.

Retries, idempotency and malformed bodies are in test_bureau_client_retries.py.
"""

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import responses

from integrations.bureau import (
    AccessToken,
    AuthenticationError,
    BureauRejected,
    CreditBureau,
    IdempotencyConflict,
    InMemoryTokenStore,
    NotFound,
)
from integrations.credito_na_medida import CreditoNaMedidaClient

from .bureau_client_support import (
    BASE,
    CONSULT_URL,
    KEY,
    NEG_URL,
    NOW,
    REASONS_URL,
    RECEIPT,
    SECRET,
    TOKEN_URL,
    add_token,
    calls_to,
    negativation_request,
)

CONSULTATION = {
    "protocol": "C-1",
    "document": "12345678909",
    "name": "Maria da Silva",
    "score": 612,
    "risk_class": "C",
    "restrictions": [
        {"creditor": "Loja X", "amount": "123.45", "occurred_on": "2025-03-10", "kind": "PEFIN"}
    ],
    "restrictions_total": "123.45",
    "queried_at": "2026-11-23T10:00:00-03:00",
}
REMOVED = {"protocol": "N-1", "status": "removed", "removed_at": "2026-12-10T09:30:00-03:00"}


class FakeClock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store():
    return InMemoryTokenStore()


@pytest.fixture
def bureau(store, clock, sleeps):
    client = CreditoNaMedidaClient(BASE, "client-1", SECRET, store, sleep=sleeps.append, clock=clock)
    yield client
    client.close()


# --------------------------------------------------------------------------- every call succeeds


def test_client_implements_the_port(bureau):
    assert isinstance(bureau, CreditBureau)


def test_token_request_uses_basic_auth_and_client_credentials(rsps, bureau):
    add_token(rsps)

    token = bureau.get_token()

    assert token == AccessToken("tok-1", NOW + timedelta(hours=1), issued_at=NOW)
    request = rsps.calls[0].request
    assert request.body == "grant_type=client_credentials"
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(f"client-1:{SECRET}".encode()).decode()
    )
    assert request.headers["User-Agent"].startswith("credit-desk/")
    assert request.headers["Accept"] == "application/json"


def test_restriction_reasons(rsps, bureau):
    add_token(rsps)
    rsps.add(
        responses.GET,
        REASONS_URL,
        json={"items": [{"code": "12", "description": "Mensalidade em atraso", "kind": "inclusion"}]},
    )

    reasons = bureau.restriction_reasons("PF")

    assert [(r.code, r.description, r.kind) for r in reasons] == [
        ("12", "Mensalidade em atraso", "inclusion")
    ]
    request = calls_to(rsps, REASONS_URL)[0].request
    assert request.url == f"{REASONS_URL}?person_type=PF"
    assert request.headers["Authorization"] == "Bearer tok-1"


def test_consult(rsps, bureau):
    add_token(rsps)
    rsps.add(responses.POST, CONSULT_URL, json=CONSULTATION)

    result = bureau.consult("123.456.789-09", "CPF")

    assert result.score == 612 and result.restrictions_total == Decimal("123.45")
    assert result.restrictions[0].occurred_on == date(2025, 3, 10)
    assert result.raw == CONSULTATION
    request = calls_to(rsps, CONSULT_URL)[0].request
    assert json.loads(request.body) == {"document": "12345678909", "document_type": "CPF"}
    assert request.headers["Content-Type"] == "application/json"
    assert "Idempotency-Key" not in request.headers


@pytest.mark.parametrize("status", [201, 200])  # 200 is the replay of an earlier 201
def test_negativate(rsps, bureau, status):
    add_token(rsps)
    rsps.add(responses.POST, NEG_URL, json=RECEIPT, status=status)

    receipt = bureau.negativate(negativation_request(), KEY)

    assert (receipt.protocol, receipt.status, receipt.notice_until) == ("N-1", "notice", date(2026, 12, 3))
    request = calls_to(rsps, NEG_URL)[0].request
    assert request.headers["Idempotency-Key"] == KEY
    body = json.loads(request.body)
    assert body["total_amount"] == "99.90" and body["titles"][0]["amount"] == "99.90"


def test_negativation_status(rsps, bureau):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{NEG_URL}/N-1",
        json={
            "protocol": "N-1",
            "status": "active",
            "notice_until": "2026-12-03",
            "activated_at": "2026-12-04T03:00:00Z",
            "removed_at": None,
            "message": None,
        },
    )

    status = bureau.negativation_status("N-1")

    assert status.status == "active" and status.activated_at == datetime(2026, 12, 4, 3, tzinfo=UTC)


def test_remove(rsps, bureau):
    add_token(rsps)
    rsps.add(responses.POST, f"{NEG_URL}/N-1/removal", json=REMOVED)

    receipt = bureau.remove("N-1", "payment", KEY)

    assert receipt.status == "removed" and receipt.removed_at.utcoffset() == timedelta(hours=-3)
    request = rsps.calls[1].request
    assert json.loads(request.body) == {"reason": "payment"}
    assert request.headers["Idempotency-Key"] == KEY


def test_bad_arguments_fail_before_any_http(rsps, bureau):
    for call in (
        lambda: bureau.negativate(negativation_request(), ""),
        lambda: bureau.negativate(negativation_request(), "has space"),
        lambda: bureau.remove("N-1", "because", KEY),
        lambda: bureau.consult("123", "RG"),
    ):
        with pytest.raises(ValueError):
            call()
    assert len(rsps.calls) == 0


# --------------------------------------------------------------------------- permanent errors


def test_404_on_status_is_not_found(rsps, bureau):
    add_token(rsps)
    rsps.add(
        responses.GET,
        f"{NEG_URL}/N-404",
        json={"error": "not_found", "message": "Protocolo desconhecido"},
        status=404,
    )

    with pytest.raises(NotFound) as info:
        bureau.negativation_status("N-404")

    assert info.value.status == 404 and info.value.message == "Protocolo desconhecido"


def test_409_is_an_idempotency_conflict(rsps, bureau, sleeps):
    add_token(rsps)
    rsps.add(responses.POST, NEG_URL, json={"error": "idempotency_conflict"}, status=409)

    with pytest.raises(IdempotencyConflict) as info:
        bureau.negativate(negativation_request(), KEY)

    assert info.value.code == "idempotency_conflict" and info.value.retryable is False
    assert len(calls_to(rsps, NEG_URL)) == 1 and sleeps == []


@pytest.mark.parametrize("status", [422, 400, 403])
def test_other_4xx_are_rejections_with_the_bureau_message_and_never_retried(rsps, bureau, sleeps, status):
    add_token(rsps)
    body = {"error": "rejected", "message": "Dívida vencida há mais de 5 anos"}
    rsps.add(responses.POST, NEG_URL, json=body, status=status)

    with pytest.raises(BureauRejected) as info:
        bureau.negativate(negativation_request(), KEY)

    error = info.value
    assert (error.status, error.code, error.message) == (
        status,
        "rejected",
        "Dívida vencida há mais de 5 anos",
    )
    assert json.loads(error.body) == body and error.retryable is False
    assert len(calls_to(rsps, NEG_URL)) == 1 and sleeps == []


def test_redirects_are_not_followed(rsps, bureau):
    add_token(rsps)
    rsps.add(responses.POST, CONSULT_URL, status=301, headers={"Location": "https://elsewhere.test/"})

    with pytest.raises(BureauRejected, match="redirect"):
        bureau.consult("12345678909", "CPF")


# --------------------------------------------------------------------------- token cache and 401


def test_token_is_cached_across_calls(rsps, bureau, clock):
    add_token(rsps)
    for _ in range(3):
        rsps.add(responses.GET, f"{NEG_URL}/N-1", json=RECEIPT)

    for _ in range(3):
        bureau.negativation_status("N-1")
        clock.advance(minutes=10)

    assert len(calls_to(rsps, TOKEN_URL)) == 1


def test_token_is_refreshed_shortly_before_it_expires(rsps, bureau, clock, store):
    add_token(rsps, "tok-1")
    add_token(rsps, "tok-2")
    rsps.add(responses.GET, f"{NEG_URL}/N-1", json=RECEIPT)
    rsps.add(responses.GET, f"{NEG_URL}/N-1", json=RECEIPT)

    bureau.negativation_status("N-1")
    clock.advance(seconds=3600 - 60)  # inside the 60 s refresh margin
    bureau.negativation_status("N-1")

    bearer = [c.request.headers["Authorization"] for c in calls_to(rsps, f"{NEG_URL}/N-1")]
    assert bearer == ["Bearer tok-1", "Bearer tok-2"]
    assert store.load().value == "tok-2"


def test_a_token_already_in_the_store_is_used(rsps, clock, sleeps):
    store = InMemoryTokenStore(AccessToken("from-db", NOW + timedelta(minutes=30)))
    bureau = CreditoNaMedidaClient(BASE, "client-1", SECRET, store, sleep=sleeps.append, clock=clock)
    rsps.add(responses.GET, f"{NEG_URL}/N-1", json=RECEIPT)

    bureau.negativation_status("N-1")

    assert rsps.calls[0].request.headers["Authorization"] == "Bearer from-db"


def test_force_refresh_always_asks_for_a_new_token(rsps, bureau):
    add_token(rsps, "tok-1")
    add_token(rsps, "tok-2")

    assert bureau.get_token().value == "tok-1"
    assert bureau.get_token().value == "tok-1"
    assert bureau.get_token(force_refresh=True).value == "tok-2"


def test_401_refreshes_the_token_once_and_repeats_the_call(rsps, bureau):
    add_token(rsps, "tok-1")
    add_token(rsps, "tok-2")
    rsps.add(responses.POST, NEG_URL, json={"error": "invalid_token"}, status=401)
    rsps.add(responses.POST, NEG_URL, json=RECEIPT, status=201)

    receipt = bureau.negativate(negativation_request(), KEY)

    assert receipt.protocol == "N-1"
    attempts = calls_to(rsps, NEG_URL)
    assert [c.request.headers["Authorization"] for c in attempts] == ["Bearer tok-1", "Bearer tok-2"]
    assert attempts[0].request.body == attempts[1].request.body
    assert {c.request.headers["Idempotency-Key"] for c in attempts} == {KEY}


def test_401_twice_is_an_authentication_error(rsps, bureau, sleeps):
    add_token(rsps, "tok-1")
    add_token(rsps, "tok-2")
    rsps.add(
        responses.GET, REASONS_URL, json={"error": "invalid_token", "message": "Token revogado"}, status=401
    )

    with pytest.raises(AuthenticationError) as info:
        bureau.restriction_reasons("PJ")

    assert info.value.status == 401 and info.value.message == "Token revogado"
    assert len(calls_to(rsps, TOKEN_URL)) == 2 and len(calls_to(rsps, REASONS_URL)) == 2
    assert sleeps == []


def test_invalid_client_is_permanent_and_not_retried(rsps, bureau, sleeps):
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json={"error": "invalid_client", "message": "Credenciais inválidas"},
        status=401,
    )

    with pytest.raises(AuthenticationError) as info:
        bureau.consult("12345678909", "CPF")

    assert (info.value.code, info.value.message) == ("invalid_client", "Credenciais inválidas")
    assert info.value.retryable is False
    assert len(rsps.calls) == 1 and sleeps == []


class GatedStore(InMemoryTokenStore):
    """Holds both callers at the unlocked load() until both have seen the empty store."""

    def __init__(self):
        super().__init__()
        self.barrier = threading.Barrier(2, timeout=5)
        self.local = threading.local()

    def load(self):
        token = super().load()  # read first, then wait: both callers must have seen the empty store
        if not getattr(self.local, "locked", False):
            self.barrier.wait()
        return token

    @contextmanager
    def refresh_lock(self):
        with super().refresh_lock():
            self.local.locked = True
            try:
                yield
            finally:
                self.local.locked = False


def test_refresh_lock_gives_one_token_request_for_concurrent_callers(rsps, clock, sleeps):
    store = GatedStore()
    # Two clients sharing one store stand for two processes sharing the integration row.
    clients = [
        CreditoNaMedidaClient(BASE, "client-1", SECRET, store, sleep=sleeps.append, clock=clock)
        for _ in range(2)
    ]
    add_token(rsps, "tok-1")

    with ThreadPoolExecutor(max_workers=2) as pool:
        tokens = [f.result(timeout=10) for f in [pool.submit(c.get_token) for c in clients]]

    assert [t.value for t in tokens] == ["tok-1", "tok-1"]
    assert len(calls_to(rsps, TOKEN_URL)) == 1
