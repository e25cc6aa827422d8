"""The one money parser: amounts typed the Brazilian way are read as people mean them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.services.core.money import InvalidAmount, parse_money


@pytest.mark.parametrize(("typed", "amount"), [
    ("1.000", "1000.00"), ("1.000,00", "1000.00"), ("1000,5", "1000.50"), ("1.234.567,89", "1234567.89"),
    ("R$ 1.234,56", "1234.56"), ("1234.56", "1234.56"), ("12.34", "12.34"), ("0,5", "0.50"), ("-10,00", "-10.00"),
    (Decimal("3.1"), "3.10"), (7, "7.00"),
])
def test_accepted(typed, amount):
    assert parse_money(typed) == Decimal(amount)


def test_a_comma_followed_by_three_digits_is_ambiguous_and_refused_with_a_message():
    with pytest.raises(InvalidAmount) as exc:
        parse_money("12,345")
    assert exc.value.message.startswith("Valor ambíguo: “12,345”")


@pytest.mark.parametrize("typed", ["abc", "", "1,2,3", "1.0000", "1,001", 1.5, "NaN", "1e3", "١٢٣", "１２,００"])
def test_refused(typed):
    with pytest.raises(ValueError):  # InvalidAmount is a ValueError: existing callers keep working
        parse_money(typed)
