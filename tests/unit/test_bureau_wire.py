"""Crédito na Medida wire module: payload building, parsing into typed results, malformed bodies."""

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from integrations.bureau import (
    Address,
    AuthenticationError,
    BureauRejected,
    BureauUnavailable,
    Creditor,
    Debtor,
    IdempotencyConflict,
    MalformedResponse,
    NegativationRequest,
    NotFound,
    RateLimited,
    TitleLine,
)
from integrations.credito_na_medida import wire

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def make_request(**overrides):
    fields = {
        "document": "123.456.789-09",
        "document_type": "CPF",
        "restriction_code": "12",
        "debtor": Debtor(
            name="Maria da Silva",
            email="maria@example.com",
            phone=None,
            address=Address(
                street="Rua A", number="10", district="Centro", city="São Paulo", state="sp", zip="01001-000"
            ),
        ),
        "creditor": Creditor(cnpj="12.345.678/0001-95", name="Provedor Filial Centro"),
        "titles": [
            TitleLine("T-1", date(2026, 8, 10), Decimal("99.90")),
            TitleLine("T-2", date(2026, 9, 10), Decimal("100")),
        ],
    }
    fields.update(overrides)
    return NegativationRequest(**fields)


CONSULTATION = {
    "protocol": "C-1",
    "document": "12345678909",
    "name": "Maria da Silva",
    "score": 612,
    "risk_class": "C",
    "restrictions": [
        {"creditor": "Loja X", "amount": "123.45", "occurred_on": "2025-03-10", "kind": "PEFIN"},
        {"creditor": "Banco Y", "amount": "0.10", "occurred_on": "2025-04-01", "kind": "PROTESTO"},
    ],
    "restrictions_total": "123.55",
    "queried_at": "2026-11-23T10:00:00-03:00",
}


def body(data=None, **changes):
    payload = dict(CONSULTATION if data is None else data)
    for key, value in changes.items():
        if value is ...:
            payload.pop(key)
        else:
            payload[key] = value
    return json.dumps(payload)


# --------------------------------------------------------------------------- builders


def test_negativation_payload_matches_the_contract():
    payload = wire.negativation_payload(make_request())

    assert payload == {
        "document": "12345678909",
        "document_type": "CPF",
        "restriction_code": "12",
        "debtor": {
            "name": "Maria da Silva",
            "email": "maria@example.com",
            "address": {
                "street": "Rua A",
                "number": "10",
                "complement": "",
                "district": "Centro",
                "city": "São Paulo",
                "state": "SP",
                "zip": "01001000",
            },
        },
        "creditor": {"cnpj": "12345678000195", "name": "Provedor Filial Centro"},
        "titles": [
            {"number": "T-1", "due_date": "2026-08-10", "amount": "99.90"},
            {"number": "T-2", "due_date": "2026-09-10", "amount": "100.00"},
        ],
        "total_amount": "199.90",
    }


def test_total_amount_is_an_exact_decimal_sum():
    request = make_request(titles=[TitleLine(str(i), date(2026, 1, 1), Decimal("0.10")) for i in range(3)])
    assert request.total_amount == Decimal("0.30")
    assert wire.negativation_payload(request)["total_amount"] == "0.30"
    assert isinstance(request.titles, tuple)


def test_encoded_body_is_utf8_json_and_stable():
    payload = wire.negativation_payload(make_request())
    encoded = wire.encode_json(payload)
    assert encoded == wire.encode_json(payload)
    assert "São Paulo".encode() in encoded
    assert json.loads(encoded) == payload


def test_money_never_rounds_or_accepts_floats():
    assert wire.money(Decimal("5")) == "5.00"
    with pytest.raises(ValueError):
        wire.money(Decimal("1.005"))
    with pytest.raises(TypeError):
        wire.money(1.5)
    with pytest.raises(TypeError):
        TitleLine("T", date(2026, 1, 1), 9.9)
    with pytest.raises(ValueError):
        TitleLine("T", date(2026, 1, 1), Decimal("0"))


def test_request_invariants():
    with pytest.raises(ValueError):
        make_request(titles=[])
    with pytest.raises(ValueError):
        make_request(document_type="RG")


def test_simple_payloads_and_enum_checks():
    assert wire.consultation_payload("12.345.678/0001-95", "CNPJ") == {
        "document": "12345678000195",
        "document_type": "CNPJ",
    }
    assert wire.consultation_payload("12.abc.345/01de-35", "CNPJ")["document"] == "12ABC34501DE35"
    assert wire.removal_payload("agreement") == {"reason": "agreement"}
    assert wire.reasons_params("PJ") == {"person_type": "PJ"}
    for call in (
        lambda: wire.consultation_payload("123", "RG"),
        lambda: wire.consultation_payload(" . - ", "CPF"),
        lambda: wire.removal_payload("because"),
        lambda: wire.reasons_params("PX"),
    ):
        with pytest.raises(ValueError):
            call()


def test_protocol_cannot_escape_its_path_segment():
    assert wire.negativation_path("N-1") == "/v1/negativations/N-1"
    assert wire.removal_path("N-1") == "/v1/negativations/N-1/removal"
    assert wire.negativation_path("../x?y") == "/v1/negativations/..%2Fx%3Fy"
    with pytest.raises(ValueError):
        wire.negativation_path(" ")


# --------------------------------------------------------------------------- parsers


def test_parse_consultation_types():
    result = wire.parse_consultation(body())

    assert result.protocol == "C-1" and result.score == 612 and result.risk_class == "C"
    assert result.restrictions[0].amount == Decimal("123.45")
    assert result.restrictions[1].amount == Decimal("0.10")
    assert result.restrictions[0].occurred_on == date(2025, 3, 10)
    assert result.restrictions_total == Decimal("123.55")
    assert result.queried_at == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert result.queried_at.utcoffset() == timedelta(hours=-3)
    assert result.raw == CONSULTATION
    assert isinstance(result.restrictions, tuple)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"protocol": "C-1", "score": 6', "truncated JSON"),
        ("<html><body>502 Bad Gateway</body></html>", "HTML page"),
        ("", "empty body"),
        ("[1, 2]", "not an object"),
        (body(score=...), "missing score"),
        (body(score="612"), "score as a string"),
        (body(score=True), "score as a boolean"),
        (body(restrictions_total=123.55), "money as a JSON number (float)"),
        (body(restrictions_total="1e3"), "money in exponent form"),
        (body(restrictions_total="NaN"), "money not a number"),
        (body(queried_at="2026-11-23T10:00:00"), "instant without offset"),
        (
            body(
                restrictions=[{"creditor": "X", "amount": "1.00", "occurred_on": "10/03/2025", "kind": "A"}]
            ),
            "date in pt-BR format",
        ),
        (
            body(
                restrictions=[{"creditor": "X", "amount": "1.00", "occurred_on": "2025-02-30", "kind": "A"}]
            ),
            "impossible date",
        ),
        (body(restrictions=["oops"]), "restriction not an object"),
        (body(restrictions=None), "restrictions null"),
        (body(protocol=""), "empty protocol"),
        ('{"protocol": NaN}', "non-standard constant"),
    ],
)
def test_malformed_consultation_keeps_the_raw_body(text, why):
    with pytest.raises(MalformedResponse) as info:
        wire.parse_consultation(text)
    assert info.value.body == text, why
    assert info.value.retryable is False  # consultations are charged: never repeat blindly


def test_malformed_field_names_the_field():
    with pytest.raises(MalformedResponse, match=r"restrictions\[0\]\.amount"):
        wire.parse_consultation(
            body(restrictions=[{"creditor": "X", "amount": 1, "occurred_on": "2025-01-01", "kind": "A"}])
        )


def test_parse_negativation_receipt_and_status():
    receipt = wire.parse_negativation_receipt(
        '{"protocol": "N-1", "status": "notice", "notice_until": "2026-12-03"}'
    )
    assert (receipt.protocol, receipt.status, receipt.notice_until) == ("N-1", "notice", date(2026, 12, 3))

    status = wire.parse_negativation_status(
        json.dumps(
            {
                "protocol": "N-1",
                "status": "active",
                "notice_until": "2026-12-03",
                "activated_at": "2026-12-04T00:00:00Z",
                "removed_at": None,
                "message": None,
            }
        )
    )
    assert status.status == "active"
    assert status.activated_at == datetime(2026, 12, 4, tzinfo=UTC)
    assert status.removed_at is None and status.message is None

    minimal = wire.parse_negativation_status(
        '{"protocol": "N-2", "status": "rejected", "message": "CPF inválido"}'
    )
    assert minimal.notice_until is None and minimal.message == "CPF inválido"


@pytest.mark.parametrize(
    "text",
    [
        '{"protocol": "N-1", "status": "pending"}',
        '{"protocol": "N-1"}',
        '{"status": "notice"}',
        '{"protocol": "N-1", "status": "notice", "notice_until": "soon"}',
    ],
)
def test_malformed_negativation_bodies(text):
    with pytest.raises(MalformedResponse) as info:
        wire.parse_negativation_receipt(text)
    assert info.value.body == text and info.value.retryable is True


def test_parse_removal_receipt():
    receipt = wire.parse_removal_receipt(
        '{"protocol": "N-1", "status": "removed", "removed_at": "2026-12-10T09:30:00-03:00"}'
    )
    assert receipt.removed_at == datetime(2026, 12, 10, 9, 30, tzinfo=timezone(timedelta(hours=-3)))
    with pytest.raises(MalformedResponse):
        wire.parse_removal_receipt('{"protocol": "N-1", "status": "removed"}')


def test_parse_reasons():
    reasons = wire.parse_reasons(
        '{"items": [{"code": "12", "description": "Mensalidade em atraso", "kind": "inclusion"},'
        ' {"code": "90", "description": "Pagamento da dívida", "kind": "removal"}]}'
    )
    assert [(r.code, r.kind) for r in reasons] == [("12", "inclusion"), ("90", "removal")]
    with pytest.raises(MalformedResponse):
        wire.parse_reasons('{"items": [{"code": "12", "description": "x", "kind": "other"}]}')
    with pytest.raises(MalformedResponse):
        wire.parse_reasons('{"data": []}')


def test_parse_token():
    token = wire.parse_token('{"access_token": "abc", "token_type": "Bearer", "expires_in": 3600}', NOW)
    assert token.value == "abc" and token.expires_at == NOW + timedelta(hours=1)
    assert "abc" not in repr(token)


@pytest.mark.parametrize(
    "text",
    [
        '{"access_token": "live-token-123", "token_type": "Bearer"}',
        '{"access_token": "live-token-123", "expires_in": "3600"}',
        '{"access_token": "live-token-123", "expires_in": 0}',
        '{"access_token": "live-token-123", "token_type": "MAC", "expires_in": 60}',
        '{"access_token": "live-token-123", "expires_in": 36',
    ],
)
def test_malformed_token_body_is_kept_without_the_token(text):
    with pytest.raises(MalformedResponse) as info:
        wire.parse_token(text, NOW)
    assert "live-token-123" not in info.value.body
    assert '"access_token": "***"' in info.value.body


# --------------------------------------------------------------------------- error mapping


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (401, AuthenticationError),
        (400, BureauRejected),
        (403, BureauRejected),
        (422, BureauRejected),
        (302, BureauRejected),
        (404, NotFound),
        (409, IdempotencyConflict),
        (429, RateLimited),
        (500, BureauUnavailable),
        (504, BureauUnavailable),
        (204, MalformedResponse),
    ],
)
def test_error_for_status(status, error_type):
    error = wire.error_for_status(status, '{"error": "some_code", "message": "Mensagem do bureau"}')
    assert type(error) is error_type
    assert error.status == status and error.code == "some_code"
    assert error.body == '{"error": "some_code", "message": "Mensagem do bureau"}'


def test_error_for_status_uses_the_bureau_message_when_there_is_one():
    error = wire.error_for_status(422, '{"error": "rejected", "message": "Dívida não elegível"}')
    assert error.message == "Dívida não elegível"
    assert str(error) == "[422 rejected] Dívida não elegível"
    assert error.retryable is False

    html = "<html><h1>Service Unavailable</h1></html>"
    outage = wire.error_for_status(503, html)
    assert outage.body == html and outage.code is None and "503" in outage.message
    assert outage.retryable is True

    limited = wire.error_for_status(429, "", retry_after=3.0)
    assert limited.retry_after == 3.0
