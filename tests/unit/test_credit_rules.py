"""Credit rules without I/O: installment terms and splits (rule 22), the available-credit arithmetic
and tolerance (rule 20), customer XML validation, HMAC signing, outbox backoff."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import random
from decimal import Decimal

import pytest

from app.services.commerce import outbox as commerce_outbox
from app.services.commerce.customer_xml import CustomerRecord, Refusal, XmlRejected, iter_customers, validate_customer
from app.services.core.errors import ValidationError
from app.services.credit.accounts import CreditSummary
from app.services.credit.installments import normalize_term, parse_term, schedule, split_amount
from app.services.credit.purchases import MESSAGES, RPV_MESSAGE
from integrations.commerce.http_platform import HttpCommercePlatform
from integrations.commerce.samples import batch_xml, cnpj_for
from integrations.commerce.signing import fresh, signature, verify


@pytest.mark.parametrize(("term", "days"), [("7", (7,)), ("28", (28,)), ("30/60", (30, 60)),
                                            (" 30 / 60 / 90 ", (30, 60, 90))])
def test_terms(term, days):
    assert parse_term(term) == days
    assert normalize_term(term) == "/".join(map(str, days))


@pytest.mark.parametrize("term", ["", "0", "60/30", "30/30", "a/b", "30;60", "721", "/".join(["1"] * 25)])
def test_invalid_terms(term):
    with pytest.raises(ValidationError):
        parse_term(term)


@pytest.mark.parametrize(("amount", "parts", "expected"), [
    ("1000.00", 3, ["333.34", "333.33", "333.33"]),
    ("100.00", 3, ["33.34", "33.33", "33.33"]),
    ("0.05", 3, ["0.03", "0.01", "0.01"]),
    ("10.00", 1, ["10.00"]),
    ("99.99", 2, ["50.00", "49.99"]),
])
def test_split_sums_exactly_with_the_cents_on_the_first(amount, parts, expected):
    values = split_amount(Decimal(amount), parts)
    assert values == [Decimal(v) for v in expected]
    assert sum(values) == Decimal(amount)


def test_split_refuses_less_than_a_cent_per_installment():
    with pytest.raises(ValidationError):
        split_amount(Decimal("0.02"), 3)


def test_schedule_counts_calendar_days_from_the_invoice():
    assert schedule(Decimal("90.00"), "30/60/90", dt.date(2024, 12, 31)) == [
        (dt.date(2025, 1, 30), Decimal("30.00")), (dt.date(2025, 3, 1), Decimal("30.00")),
        (dt.date(2025, 3, 31), Decimal("30.00"))]


def credit(limit, used, pct="0", enabled=True) -> CreditSummary:
    return CreditSummary(Decimal(limit), Decimal(pct), enabled, Decimal(used), Decimal("0"), Decimal("0"))


def test_available_and_headroom():
    assert (credit("1000", "400").available, credit("1000", "400").headroom) == (Decimal("600"), Decimal("600"))
    with_tolerance = credit("1000", "400", pct="10")
    assert (with_tolerance.tolerance_amount, with_tolerance.headroom) == (Decimal("100.00"), Decimal("700.00"))
    assert credit("1000", "400", pct="10", enabled=False).headroom == Decimal("600")  # branch switched it off
    over = credit("1000", "1050", pct="10")
    assert (over.available, over.headroom) == (Decimal("0.00"), Decimal("50.00"))
    assert credit("0", "0", pct="50").headroom == Decimal("0.00")  # limit 0: nothing, whatever the tolerance
    assert credit("333.33", "0", pct="3.33").tolerance_amount == Decimal("11.09")  # rounded down


def test_rpv_message_is_the_seeds_text():
    assert RPV_MESSAGE == MESSAGES["customer_rejected"] == "Seu cadastro não foi aprovado para este sortimento"


def raw(**overrides) -> dict:
    base = {"external_id": "P-1", "name": "Loja", "document": "11.222.333/0001-81", "email": "A@B.COM.BR",
            "phone": "(11) 3333-4444", "state": "sp", "zip": "01310-100", "state_registration": "isento"}
    return base | overrides


def test_validate_customer_cleans_fields():
    record = validate_customer(raw(), 1)
    assert isinstance(record, CustomerRecord)
    assert (record.document, record.values["email"], record.values["phone"], record.values["state"],
            record.values["zip"], record.values["state_registration"]) == (
        "11222333000181", "a@b.com.br", "1133334444", "SP", "01310100", "ISENTO")
    assert validate_customer(raw(mobile=""), 2).values["mobile"] is None  # present and empty: cleared


@pytest.mark.parametrize(("field", "value", "code"), [
    ("document", "11.222.333/0001-80", "invalid_document"), ("document", "", "invalid_document"),
    ("external_id", "", "missing_id"), ("name", "", "missing_name"), ("email", "sem-arroba", "invalid_field"),
    ("state", "XX", "invalid_field"), ("zip", "123", "invalid_field"), ("name", "x" * 201, "invalid_field"),
])
def test_validate_customer_refusals(field, value, code):
    refusal = validate_customer(raw(**{field: value}), 3)
    assert isinstance(refusal, Refusal) and (refusal.index, refusal.code) == (3, code)


def test_iter_customers_streams_and_refuses_entities():
    items = list(iter_customers(io.BytesIO(batch_xml(10, 3))))
    assert [(i.index, i.document) for i in items] == [(1, cnpj_for(10)), (2, cnpj_for(11)), (3, cnpj_for(12))]
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><clientes><cliente>&b;</cliente></clientes>'
    with pytest.raises(XmlRejected) as exc:
        list(iter_customers(io.BytesIO(bomb)))
    assert exc.value.code == "forbidden_xml"


def test_signature_is_the_hmac_of_the_body():
    body = b'{"a":1}'
    expected = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert signature("k", body) == expected
    assert verify("k", body, expected) and not verify("k", body + b" ", expected) and not verify("k", body, None)
    assert fresh("1000", now=1100) and not fresh("1000", now=1400) and not fresh("x", now=1000)


def test_backoff_grows_and_is_capped():
    rng = random.Random(1)
    waits = [commerce_outbox.backoff(n, rng).total_seconds() for n in (1, 2, 3, 12)]
    assert 30 <= waits[0] <= 33 and 60 <= waits[1] <= 66 and 120 <= waits[2] <= 132
    assert 3600 <= waits[3] <= 3960


class _FakeResponse:
    def __init__(self, status: int, text: str = ""):
        self.status_code, self.text = status, text


class _FakeSession:
    def __init__(self, status: int):
        self.status, self.calls = status, []

    def post(self, url, data, headers, timeout, allow_redirects=True):
        # A redirect would resend the customer's data to an address nobody configured.
        assert allow_redirects is False
        self.calls.append((url, data, headers, timeout))
        return _FakeResponse(self.status, "erro")


@pytest.mark.parametrize(("status", "ok", "retryable"), [(200, True, True), (503, False, True),
                                                          (429, False, True), (400, False, False)])
def test_http_adapter_signs_and_classifies(status, ok, retryable):
    session = _FakeSession(status)
    platform = HttpCommercePlatform(session=session, clock=lambda: 1700000000.5, read_timeout=7)
    result = platform.send_update("http://p/updates", "k", {"event": "x"}, idempotency_key="key-1")
    assert (result.ok, result.retryable, result.http_status) == (ok, retryable, status)
    url, data, headers, timeout = session.calls[0]
    assert json.loads(data) == {"event": "x", "sent_at": 1700000000}
    assert headers["X-Signature"] == signature("k", data) and headers["X-Timestamp"] == "1700000000"
    assert headers["Idempotency-Key"] == "key-1" and timeout == (3.05, 7)
