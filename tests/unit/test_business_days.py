"""Rule 9: business days per branch state, and the Súmula 548 STJ removal deadline.

Every expected date below is counted by hand: day 1 is the first business day AFTER the payment,
the deadline is day 5 (REsp 1.424.792).
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.services.core.business_days import (
    add_business_days,
    is_business_day,
    next_business_day,
    removal_deadline,
)

D = dt.date


# --- removal_deadline ------------------------------------------------------------------------


def test_deadline_on_a_plain_week_is_the_same_weekday_a_week_later():
    # Paid Mon 2 Mar 2026: Tue 3 (1), Wed 4 (2), Thu 5 (3), Fri 6 (4), Mon 9 (5).
    assert removal_deadline(D(2026, 3, 2), "SP") == D(2026, 3, 9)


def test_deadline_across_a_weekend():
    # Paid Wed 4 Mar 2026: Thu 5 (1), Fri 6 (2), [Sat 7, Sun 8], Mon 9 (3), Tue 10 (4), Wed 11 (5).
    assert removal_deadline(D(2026, 3, 4), "SP") == D(2026, 3, 11)
    assert removal_deadline(D(2026, 3, 4), None) == D(2026, 3, 11)


def test_deadline_across_a_national_holiday():
    # Paid Thu 19 Nov 2026 in SP. Fri 20 Nov is Consciência Negra (national since 2024,
    # Lei 14.759/2023), then Sat 21 and Sun 22: Mon 23 (1), Tue 24 (2), Wed 25 (3), Thu 26 (4),
    # Fri 27 (5). Without the holiday the deadline would be Thu 26.
    assert removal_deadline(D(2026, 11, 19), "SP") == D(2026, 11, 27)
    assert removal_deadline(D(2026, 11, 19), "RJ") == D(2026, 11, 27)
    assert removal_deadline(D(2026, 11, 19), None) == D(2026, 11, 27)


def test_state_only_holiday_moves_the_deadline_for_that_state_only():
    # Paid Wed 8 Jul 2026. Thu 9 Jul is Revolução Constitucionalista, a holiday in SP only.
    # SP: Fri 10 (1), Mon 13 (2), Tue 14 (3), Wed 15 (4), Thu 16 (5).
    # RJ: Thu 9 (1), Fri 10 (2), Mon 13 (3), Tue 14 (4), Wed 15 (5).
    assert removal_deadline(D(2026, 7, 8), "SP") == D(2026, 7, 16)
    assert removal_deadline(D(2026, 7, 8), "RJ") == D(2026, 7, 15)
    assert removal_deadline(D(2026, 7, 8), None) == D(2026, 7, 15)


@pytest.mark.parametrize(
    "paid_on",
    [
        D(2026, 3, 6),  # Friday
        D(2026, 3, 7),  # Saturday
        D(2026, 3, 8),  # Sunday
    ],
)
def test_payment_on_friday_or_weekend_counts_from_monday(paid_on):
    # Mon 9 Mar (1), Tue 10 (2), Wed 11 (3), Thu 12 (4), Fri 13 (5).
    assert removal_deadline(paid_on, "SP") == D(2026, 3, 13)


def test_payment_on_a_holiday_counts_from_the_next_business_day():
    # Paid on Fri 20 Nov 2026 (holiday): Mon 23 (1) ... Fri 27 (5).
    assert removal_deadline(D(2026, 11, 20), "SP") == D(2026, 11, 27)


def test_deadline_across_the_new_year():
    # Paid Thu 24 Dec 2026: [Fri 25 Christmas, weekend], Mon 28 (1), Tue 29 (2), Wed 30 (3),
    # Thu 31 (4), [Fri 1 Jan 2027, weekend], Mon 4 Jan 2027 (5).
    assert removal_deadline(D(2026, 12, 24), "SP") == D(2027, 1, 4)


# --- is_business_day and the state -----------------------------------------------------------


def test_weekend_is_not_a_business_day():
    assert is_business_day(D(2026, 3, 6), "SP") is True  # Friday
    assert is_business_day(D(2026, 3, 7), "SP") is False  # Saturday
    assert is_business_day(D(2026, 3, 8), "SP") is False  # Sunday


def test_national_holidays_apply_without_a_state():
    assert is_business_day(D(2026, 4, 21), None) is False  # Tiradentes, Tuesday
    assert is_business_day(D(2026, 4, 3), None) is False  # Good Friday


def test_state_holiday_applies_only_to_its_state():
    assert is_business_day(D(2026, 7, 9), "SP") is False
    assert is_business_day(D(2026, 7, 9), "RJ") is True
    assert is_business_day(D(2026, 4, 23), "RJ") is False  # São Jorge, RJ only
    assert is_business_day(D(2026, 4, 23), "SP") is True


def test_state_code_is_case_and_space_insensitive():
    assert is_business_day(D(2026, 7, 9), "sp") is False
    assert is_business_day(D(2026, 7, 9), " SP ") is False


@pytest.mark.parametrize("state", [None, "", "XX", "São Paulo Capital"])
def test_missing_or_unknown_state_uses_national_holidays_only(state):
    assert is_business_day(D(2026, 7, 9), state) is True  # SP's holiday does not apply
    assert is_business_day(D(2026, 11, 20), state) is False  # the national one does


def test_optional_days_count_as_business_days_unless_the_state_makes_them_holidays():
    # Carnival is a "ponto facultativo" nationally; RJ makes Carnival Tuesday a state holiday.
    assert is_business_day(D(2026, 2, 16), "SP") is True  # Carnival Monday
    assert is_business_day(D(2026, 2, 17), "SP") is True  # Carnival Tuesday
    assert is_business_day(D(2026, 2, 17), "RJ") is False
    assert is_business_day(D(2026, 6, 4), "SP") is True  # Corpus Christi


def test_holidays_are_looked_up_for_the_right_year():
    # Consciência Negra became national in 2024; on Mon 20 Nov 2023 it was a state holiday in RJ only.
    assert is_business_day(D(2023, 11, 20), "SP") is True
    assert is_business_day(D(2023, 11, 20), "RJ") is False
    assert is_business_day(D(2024, 11, 20), "SP") is False


# --- next_business_day and add_business_days -------------------------------------------------


def test_next_business_day_is_strictly_after():
    assert next_business_day(D(2026, 3, 4), "SP") == D(2026, 3, 5)  # Wed -> Thu
    assert next_business_day(D(2026, 3, 6), "SP") == D(2026, 3, 9)  # Fri -> Mon
    assert next_business_day(D(2026, 7, 8), "SP") == D(2026, 7, 10)  # skips 9 Jul in SP
    assert next_business_day(D(2026, 7, 8), "RJ") == D(2026, 7, 9)


def test_add_business_days():
    assert add_business_days(D(2026, 3, 7), 0, "SP") == D(2026, 3, 7)  # zero: unchanged
    assert add_business_days(D(2026, 3, 4), 1, "SP") == D(2026, 3, 5)
    assert add_business_days(D(2026, 3, 4), 3, "SP") == D(2026, 3, 9)
    assert add_business_days(D(2026, 11, 19), 1, "SP") == D(2026, 11, 23)


def test_negative_business_days_are_refused():
    with pytest.raises(ValueError, match="zero or positive"):
        add_business_days(D(2026, 3, 4), -1, "SP")


@pytest.mark.parametrize(
    "function",
    [
        lambda value: is_business_day(value, "SP"),
        lambda value: next_business_day(value, "SP"),
        lambda value: add_business_days(value, 1, "SP"),
        lambda value: removal_deadline(value, "SP"),
    ],
)
def test_a_datetime_is_refused(function):
    # A datetime never equals a date: 20 Nov 2026 00:00 would silently not be a holiday.
    with pytest.raises(TypeError, match="expected a datetime.date, got datetime"):
        function(dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
