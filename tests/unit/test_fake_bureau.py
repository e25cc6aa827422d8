"""FakeBureau: the in-memory CreditBureau other unit tests rely on."""

import pickle
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from integrations.bureau import (
    Address,
    BureauUnavailable,
    CreditBureau,
    Creditor,
    Debtor,
    IdempotencyConflict,
    NegativationRequest,
    NotFound,
    TitleLine,
)
from integrations.fake_bureau import FakeBureau

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


@pytest.fixture
def bureau():
    return FakeBureau(today=lambda: TODAY, clock=lambda: NOW)


def request(amount="99.90"):
    return NegativationRequest(
        document="12345678909",
        document_type="CPF",
        restriction_code="12",
        debtor=Debtor("Maria", Address("Rua A", "10", "Centro", "São Paulo", "SP", "01001000")),
        creditor=Creditor("12345678000195", "Filial"),
        titles=(TitleLine("T-1", date(2026, 8, 10), Decimal(amount)),),
    )


def test_implements_the_port(bureau):
    assert isinstance(bureau, CreditBureau)


def test_consultation_is_deterministic_per_document(bureau):
    first = bureau.consult("123.456.789-09", "CPF")
    again = FakeBureau(clock=lambda: NOW).consult("12345678909", "CPF")
    other = bureau.consult("98765432100", "CPF")

    assert (first.score, first.restrictions, first.risk_class) == (
        again.score,
        again.restrictions,
        again.risk_class,
    )
    assert (first.score, first.restrictions) != (other.score, other.restrictions)
    assert 0 <= first.score <= 1000
    assert first.restrictions_total == sum((r.amount for r in first.restrictions), Decimal(0))
    assert all(isinstance(r.amount, Decimal) for r in first.restrictions)
    assert bureau.calls[0] == ("consult", ("123.456.789-09", "CPF"))


def test_pinned_consultation(bureau):
    pinned = bureau.consult("11111111111", "CPF")
    bureau.consultations["12345678909"] = pinned
    assert bureau.consult("123.456.789-09", "CPF") is pinned


def test_negativate_gives_notice_for_ten_days_and_replays_by_key(bureau):
    receipt = bureau.negativate(request(), "key-1")

    assert receipt.status == "notice" and receipt.notice_until == TODAY + timedelta(days=10)
    assert bureau.negativate(request(), "key-1") == receipt
    assert len(bureau.negativations) == 1
    with pytest.raises(IdempotencyConflict):
        bureau.negativate(request("10.00"), "key-1")
    assert [name for name, _ in bureau.calls] == ["negativate"] * 3


def test_lifecycle_helpers_and_removal(bureau):
    protocol = bureau.negativate(request(), "key-1").protocol

    assert bureau.activate(protocol).status == "active"
    assert bureau.negativation_status(protocol).activated_at == NOW
    removal = bureau.remove(protocol, "payment", "rm-1")
    assert removal.status == "removed" and bureau.negativation_status(protocol).status == "removed"
    assert bureau.remove(protocol, "payment", "rm-2").removed_at == removal.removed_at  # idempotent
    with pytest.raises(NotFound):
        bureau.negativation_status("N-missing")
    with pytest.raises(ValueError):
        bureau.remove(protocol, "because", "rm-3")


def test_mark_removed_and_reject(bureau):
    first = bureau.negativate(request(), "k1").protocol
    second = bureau.negativate(request("1.00"), "k2").protocol
    assert bureau.mark_removed(first).removed_at == NOW
    assert bureau.reject(second, "CPF inválido").message == "CPF inválido"


def test_fail_next(bureau):
    bureau.fail_next(BureauUnavailable("down", outcome_unknown=True), times=2)

    for _ in range(2):
        with pytest.raises(BureauUnavailable):
            bureau.negativate(request(), "key-1")
    assert bureau.negativate(request(), "key-1").status == "notice"
    assert len(bureau.calls_to("negativate")) == 3


def test_reasons_and_token(bureau):
    assert {r.kind for r in bureau.restriction_reasons("PF")} == {"inclusion", "removal"}
    custom = FakeBureau(reasons={"PF": []})
    assert custom.restriction_reasons("PF") == [] and custom.restriction_reasons("PJ") == []
    assert bureau.get_token().expires_at > NOW
    with pytest.raises(ValueError):
        bureau.restriction_reasons("XX")


def test_errors_survive_pickling():
    error = pickle.loads(
        pickle.dumps(BureauUnavailable("down", status=503, body="<html>", outcome_unknown=True))
    )
    assert (error.message, error.status, error.body, error.outcome_unknown) == ("down", 503, "<html>", True)
