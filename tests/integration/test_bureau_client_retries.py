"""CreditoNaMedidaClient under failure: retries, Retry-After, idempotent resends, malformed bodies,
and secrets kept out of every message. HTTP is mocked with `responses`; sleeping is faked."""

import base64
import json
from datetime import timedelta
from email.utils import format_datetime

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from integrations.bureau import (
    BureauError,
    BureauUnavailable,
    CredentialsRefused,
    InMemoryTokenStore,
    MalformedResponse,
    RateLimited,
)
from integrations.credito_na_medida import CreditoNaMedidaClient

from .bureau_client_support import (
    BASE,
    CONSULT_URL,
    KEY,
    NEG_URL,
    NOW,
    RECEIPT,
    SECRET,
    TOKEN_URL,
    add_token,
    calls_to,
    negativation_request,
)

STATUS_URL = f"{NEG_URL}/N-1"
HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


@pytest.fixture
def bureau(sleeps):
    client = CreditoNaMedidaClient(
        BASE, "client-1", SECRET, InMemoryTokenStore(), max_attempts=4, sleep=sleeps.append, clock=lambda: NOW
    )
    yield client
    client.close()


@pytest.fixture
def token(rsps):
    add_token(rsps)


def refused():
    """What requests raises when nothing listens: the request never left this machine."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.ConnectionError(MaxRetryError(None, "/v1/negativations", reason))


# --------------------------------------------------------------------------- 429 and 5xx


def test_429_waits_for_retry_after_then_succeeds(rsps, bureau, token, sleeps):
    rsps.add(
        responses.GET, STATUS_URL, json={"error": "rate_limited"}, status=429, headers={"Retry-After": "2"}
    )
    rsps.add(responses.GET, STATUS_URL, json=RECEIPT)

    assert bureau.negativation_status("N-1").protocol == "N-1"
    assert sleeps == [2.0]


def test_retry_after_as_an_http_date(rsps, bureau, token, sleeps):
    later = format_datetime(NOW + timedelta(seconds=5), usegmt=True)
    rsps.add(responses.GET, STATUS_URL, status=429, headers={"Retry-After": later})
    rsps.add(responses.GET, STATUS_URL, json=RECEIPT)

    bureau.negativation_status("N-1")

    assert sleeps == [5.0]


def test_retry_after_longer_than_the_cap_is_handed_to_the_caller(rsps, bureau, token, sleeps):
    rsps.add(responses.GET, STATUS_URL, status=429, headers={"Retry-After": "120"})

    with pytest.raises(RateLimited) as info:
        bureau.negativation_status("N-1")

    assert info.value.retry_after == 120.0 and info.value.retryable is True
    assert sleeps == [] and len(calls_to(rsps, STATUS_URL)) == 1


def test_429_exhausted_is_rate_limited(rsps, bureau, token, sleeps):
    rsps.add(responses.GET, STATUS_URL, status=429, headers={"Retry-After": "1"})

    with pytest.raises(RateLimited) as info:
        bureau.negativation_status("N-1")

    assert len(calls_to(rsps, STATUS_URL)) == 4 and sleeps == [1.0, 1.0, 1.0]
    assert info.value.retry_after == 1.0


def test_5xx_then_success_with_jittered_backoff(rsps, bureau, token, sleeps):
    rsps.add(responses.GET, STATUS_URL, status=503, body=HTML_PAGE, content_type="text/html")
    rsps.add(responses.GET, STATUS_URL, status=500, json={"error": "internal"})
    rsps.add(responses.GET, STATUS_URL, json=RECEIPT)

    assert bureau.negativation_status("N-1").status == "notice"
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0  # capped exponential windows


def test_5xx_exhausted_after_exactly_max_attempts(rsps, bureau, token, sleeps):
    rsps.add(responses.GET, STATUS_URL, status=502, body=HTML_PAGE, content_type="text/html")

    with pytest.raises(BureauUnavailable) as info:
        bureau.negativation_status("N-1")

    error = info.value
    assert len(calls_to(rsps, STATUS_URL)) == 4 and len(sleeps) == 3
    assert error.status == 502 and error.body == HTML_PAGE and error.retryable is True
    assert error.outcome_unknown is False  # a GET has no outcome to wonder about
    assert "4 attempt" in str(error)


def test_backoff_never_exceeds_backoff_max(rsps, token, sleeps):
    client = CreditoNaMedidaClient(
        BASE,
        "c",
        SECRET,
        max_attempts=8,
        backoff_initial=1,
        backoff_max=2,
        sleep=sleeps.append,
        clock=lambda: NOW,
    )
    rsps.add(responses.GET, STATUS_URL, status=503)

    with pytest.raises(BureauUnavailable):
        client.negativation_status("N-1")

    assert len(sleeps) == 7 and max(sleeps) <= 2


# --------------------------------------------------------------------------- idempotent resends


def test_timeouts_on_inclusion_resend_the_same_key_and_body(rsps, bureau, token, sleeps):
    rsps.add(responses.POST, NEG_URL, body=requests.ReadTimeout("read timed out"))
    rsps.add(responses.POST, NEG_URL, body=requests.ConnectionError("connection reset by peer"))
    rsps.add(responses.POST, NEG_URL, status=503)
    rsps.add(responses.POST, NEG_URL, json=RECEIPT, status=200)  # the replay of the first attempt

    receipt = bureau.negativate(negativation_request(), KEY)

    assert receipt.protocol == "N-1"
    attempts = calls_to(rsps, NEG_URL)
    assert len(attempts) == 4 and len(sleeps) == 3
    assert {c.request.headers["Idempotency-Key"] for c in attempts} == {KEY}
    assert len({c.request.body for c in attempts}) == 1
    assert json.loads(attempts[0].request.body)["total_amount"] == "99.90"


def test_exhausted_inclusion_after_timeouts_has_an_unknown_outcome(rsps, bureau, token):
    rsps.add(responses.POST, NEG_URL, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(BureauUnavailable) as info:
        bureau.negativate(negativation_request(), KEY)

    assert info.value.outcome_unknown is True and info.value.retryable is True
    assert isinstance(info.value.__cause__, requests.ReadTimeout)
    attempts = calls_to(rsps, NEG_URL)
    assert len(attempts) == 4 and {c.request.headers["Idempotency-Key"] for c in attempts} == {KEY}


def test_outcome_stays_unknown_once_any_attempt_may_have_arrived(rsps, bureau, token):
    rsps.add(responses.POST, f"{NEG_URL}/N-1/removal", body=requests.ReadTimeout("read timed out"))
    rsps.add(responses.POST, f"{NEG_URL}/N-1/removal", body=refused())

    with pytest.raises(BureauUnavailable) as info:
        bureau.remove("N-1", "payment", KEY)

    assert info.value.outcome_unknown is True


def test_refused_connections_mean_the_inclusion_never_arrived(rsps, bureau, token):
    rsps.add(responses.POST, NEG_URL, body=refused())

    with pytest.raises(BureauUnavailable) as info:
        bureau.negativate(negativation_request(), KEY)

    assert info.value.outcome_unknown is False
    assert len(calls_to(rsps, NEG_URL)) == 4


def test_consultation_is_not_resent_after_a_read_timeout(rsps, bureau, token, sleeps):
    # Consultations are charged and carry no Idempotency-Key: resending could charge twice.
    rsps.add(responses.POST, CONSULT_URL, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(BureauUnavailable) as info:
        bureau.consult("12345678909", "CPF")

    assert info.value.outcome_unknown is True
    assert len(calls_to(rsps, CONSULT_URL)) == 1 and sleeps == []


def test_consultation_refused_with_5xx_was_not_done(rsps, bureau, token, sleeps):
    # The contract makes a 5xx a refusal to act: a consultation that only met 5xx was not charged
    # (the service records it as failed, not "incerta"), unlike one whose answer was lost.
    for _ in range(4):
        rsps.add(responses.POST, CONSULT_URL, status=503, json={"error": "server_error"})

    with pytest.raises(BureauUnavailable) as info:
        bureau.consult("12345678909", "CPF")

    assert info.value.outcome_unknown is False
    assert len(calls_to(rsps, CONSULT_URL)) == 4


def test_consultation_is_retried_when_it_never_arrived(rsps, bureau, token):
    rsps.add(responses.POST, CONSULT_URL, body=requests.ConnectTimeout("connect timed out"))
    rsps.add(responses.POST, CONSULT_URL, status=503)
    rsps.add(responses.POST, CONSULT_URL, status=429, headers={"Retry-After": "1"})
    rsps.add(
        responses.POST,
        CONSULT_URL,
        json={
            "protocol": "C-1",
            "document": "12345678909",
            "name": "M",
            "score": 1,
            "risk_class": "E",
            "restrictions": [],
            "restrictions_total": "0.00",
            "queried_at": "2026-11-23T10:00:00-03:00",
        },
    )

    assert bureau.consult("12345678909", "CPF").restrictions == ()


def test_token_request_is_retried_on_5xx(rsps, bureau):
    rsps.add(responses.POST, TOKEN_URL, status=503)
    rsps.add(responses.POST, TOKEN_URL, json={"access_token": "tok-1", "expires_in": 60 * 60})

    assert bureau.get_token().value == "tok-1"


# --------------------------------------------------------------------------- malformed bodies


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"protocol": "N-1", "status": "noti', "application/json"),
        (HTML_PAGE, "text/html"),
        ('{"protocol": "N-1"}', "application/json"),
        ('{"protocol": "N-1", "status": "notice", "notice_until": 20261203}', "application/json"),
        ("", "application/json"),
    ],
    ids=["truncated", "html", "missing-status", "wrong-type", "empty"],
)
def test_malformed_success_bodies_keep_the_raw_body(rsps, bureau, token, sleeps, body, content_type):
    rsps.add(responses.POST, NEG_URL, body=body, status=201, content_type=content_type)

    with pytest.raises(MalformedResponse) as info:
        bureau.negativate(negativation_request(), KEY)

    assert info.value.body == body and info.value.retryable is True
    assert len(calls_to(rsps, NEG_URL)) == 1 and sleeps == []  # recorded, not hammered


def test_malformed_consultation_is_not_retryable(rsps, bureau, token):
    rsps.add(responses.POST, CONSULT_URL, body="<html>oops</html>", content_type="text/html")

    with pytest.raises(MalformedResponse) as info:
        bureau.consult("12345678909", "CPF")

    assert info.value.retryable is False and info.value.body == "<html>oops</html>"


def test_non_utf8_body_is_kept_not_crashed(rsps, bureau, token):
    rsps.add(responses.GET, STATUS_URL, body="<p>Manutenção</p>".encode("latin-1"), content_type="text/html")

    with pytest.raises(MalformedResponse) as info:
        bureau.negativation_status("N-1")

    assert "Manuten" in info.value.body


def test_malformed_token_response(rsps, bureau):
    rsps.add(responses.POST, TOKEN_URL, body='{"access_token": "leaky", "expires_in": "soon"}')

    with pytest.raises(MalformedResponse) as info:
        bureau.get_token()

    assert "leaky" not in info.value.body


# --------------------------------------------------------------------------- secrets


def _errors_from_every_failure_path(rsps, bureau):
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json={"error": "invalid_client", "message": "Credenciais inválidas"},
        status=401,
    )
    rsps.add(responses.POST, TOKEN_URL, status=503)
    rsps.add(responses.POST, TOKEN_URL, body=requests.ConnectionError("reset"))
    rsps.add(responses.POST, TOKEN_URL, body="{}")
    errors = []
    for _ in range(4):
        try:
            bureau.get_token()
        except BureauError as exc:
            errors.append(exc)
    return errors


def test_secret_never_appears_in_reprs_or_errors(rsps, sleeps):
    # No pause after a refusal: every failure path is taken in turn.
    bureau = CreditoNaMedidaClient(BASE, "client-1", SECRET, max_attempts=1, refusal_pause_s=0, sleep=sleeps.append)
    encoded = base64.b64encode(f"client-1:{SECRET}".encode()).decode()

    errors = _errors_from_every_failure_path(rsps, bureau)

    assert [type(e) for e in errors] == [
        CredentialsRefused,
        BureauUnavailable,
        BureauUnavailable,
        MalformedResponse,
    ]
    texts = [repr(bureau), str(bureau)]
    for error in errors:
        texts += [str(error), repr(error), error.message, error.body or "", str(error.__cause__ or "")]
    for text in texts:
        assert SECRET not in text and encoded not in text
