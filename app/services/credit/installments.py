"""Installment terms ("prazos e parcelamentos", rule 22 (installment terms, reservation, settlement)).

A term is written as days after the invoicing date separated by "/": "28" is one title due in 28
days, "30/60/90" three titles due in 30, 60 and 90 days.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_DOWN, Decimal

from app.services.core.errors import ValidationError

CENT = Decimal("0.01")
MAX_INSTALLMENTS = 24
MAX_DAYS = 720
_TERM_RE = re.compile(r"\d{1,3}(/\d{1,3})*")


def parse_term(term: str) -> tuple[int, ...]:
    """"30/60/90" -> (30, 60, 90). Days strictly increasing, 0 < days <= 720, at most 24 installments."""
    text = re.sub(r"\s+", "", str(term or ""))
    if not _TERM_RE.fullmatch(text):
        raise ValidationError(f"Prazo inválido: {term!r}. Use dias separados por barra, por exemplo 30/60/90.",
                              code="invalid_term")
    days = tuple(int(part) for part in text.split("/"))
    if len(days) > MAX_INSTALLMENTS:
        raise ValidationError(f"Prazo inválido: no máximo {MAX_INSTALLMENTS} parcelas.", code="invalid_term")
    if any(d <= 0 or d > MAX_DAYS for d in days) or any(b <= a for a, b in zip(days, days[1:], strict=False)):
        raise ValidationError(
            f"Prazo inválido: {term!r}. Os dias devem ser crescentes, entre 1 e {MAX_DAYS}.", code="invalid_term")
    return days


def normalize_term(term: str) -> str:
    return "/".join(str(d) for d in parse_term(term))


def split_amount(amount: Decimal, parts: int) -> list[Decimal]:
    """Split into `parts` installments whose sum is exactly `amount`; the leftover cents go on the
    first installment (100.00 / 3 -> 33.34, 33.33, 33.33)."""
    amount = Decimal(amount).quantize(CENT)
    if parts < 1:
        raise ValueError("parts must be at least 1")
    if amount <= 0:
        raise ValueError("amount must be positive")
    base = (amount / parts).quantize(CENT, rounding=ROUND_DOWN)
    if base == 0:
        raise ValidationError("Valor pequeno demais para o número de parcelas.", code="amount_too_small")
    first = amount - base * (parts - 1)
    return [first] + [base] * (parts - 1)


def schedule(amount: Decimal, term: str, invoice_date: dt.date) -> list[tuple[dt.date, Decimal]]:
    """(due date, amount) per installment: due dates count calendar days from the invoicing date."""
    days = parse_term(term)
    return [(invoice_date + dt.timedelta(days=d), value)
            for d, value in zip(days, split_amount(amount, len(days)), strict=True)]
