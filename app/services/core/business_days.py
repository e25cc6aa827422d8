"""Business days for a branch, and the legal deadline to remove a negativation (domain rule 9).

A business day is Monday to Friday and not a public holiday, national or of the branch's state,
as the `holidays` package knows them (`holidays.country_holidays("BR", subdiv=state)`, category
"public"). Nationally optional days ("ponto facultativo": Carnival Monday and Tuesday, Ash
Wednesday, Corpus Christi) count as business days unless the state makes them a public holiday
(Rio de Janeiro does for Carnival Tuesday): a deadline computed this way is never later than the
one a court would count, so an alert is never late. Municipal holidays are not counted, for the
same reason.

`state` is the branch's UF ("SP", "rj"); None, "" or an unknown code uses national holidays only.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

REMOVAL_BUSINESS_DAYS = 5


def is_business_day(day: dt.date, state: str | None = None) -> bool:
    """True on Monday to Friday when the day is not a national or state public holiday."""
    _require_date(day)
    return day.weekday() < 5 and day not in _public_holidays(_state_code(state), day.year)


def next_business_day(day: dt.date, state: str | None = None) -> dt.date:
    """The first business day strictly after `day` (whether `day` itself is one or not)."""
    _require_date(day)
    candidate = day + dt.timedelta(days=1)
    while not is_business_day(candidate, state):
        candidate += dt.timedelta(days=1)
    return candidate


def add_business_days(day: dt.date, n: int, state: str | None = None) -> dt.date:
    """The n-th business day after `day`, `day` itself never counted; n=0 returns `day`."""
    _require_date(day)
    if n < 0:
        raise ValueError(f"n must be zero or positive, got {n}")
    for _ in range(n):
        day = next_business_day(day, state)
    return day


def removal_deadline(paid_on: dt.date, state: str | None) -> dt.date:
    """The last day to remove a negativation after the debt was paid in full.

    Súmula 548 STJ: "Incumbe ao credor a exclusão do registro da dívida em nome do devedor no
    cadastro de inadimplentes no prazo de cinco dias úteis, a contar do integral e efetivo
    pagamento do débito." REsp 1.424.792/BA (repetitive appeal, Tema 735) fixes the count: five
    business days "contados do primeiro dia útil subsequente à completa disponibilização do
    numerário necessário à quitação do débito vencido".

    So day 1 is the first business day AFTER `paid_on` and the deadline is day 5: payment on a
    Monday with no holidays around gives the following Monday. `paid_on` is the day the money
    became available to the creditor (for a boleto, the day of the credit, not of the payment).
    """
    return add_business_days(paid_on, REMOVAL_BUSINESS_DAYS, state)


def _require_date(day: dt.date) -> None:
    # A datetime never equals a date, so it would silently miss every holiday.
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"expected a datetime.date, got {type(day).__name__}")


def _state_code(state: str | None) -> str | None:
    if not state:
        return None
    code = state.strip().upper()
    return code if code in _brazilian_states() else None


@lru_cache(maxsize=1)
def _brazilian_states() -> frozenset[str]:
    # The package also lists "São Paulo Capital" (a city); only two-letter UF codes are states.
    return frozenset(code for code in holidays.list_supported_countries()["BR"] if len(code) == 2)


@lru_cache(maxsize=512)
def _public_holidays(state: str | None, year: int) -> frozenset[dt.date]:
    """National and state public holidays of one year, cached per (state, year)."""
    return frozenset(holidays.country_holidays("BR", subdiv=state, years=year))
