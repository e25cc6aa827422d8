"""Money as Decimal with two places: the one parser of what people and files type (`parse_money`)
and the one pt-BR formatter (`brl` for display, `decimal_br` for form fields and CSV cells)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
_PLAIN = re.compile(r"-?\d+(\.\d{1,2})?")
_BR = re.compile(r"-?\d{1,3}(\.\d{3})*(,\d{1,2})?|-?\d+(,\d{1,2})?")


def parse_money(value: object) -> Decimal:
    """'1.234,56', '1234,56', '1234.56', Decimal or int -> Decimal('1234.56'). Floats are refused.

    Raises ValueError for anything else (more than two decimals, letters, empty)."""
    if isinstance(value, float):
        raise ValueError("money must not be a float")
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        amount = Decimal(value)
    else:
        text = str(value or "").strip().replace("R$", "").replace(" ", "")
        if _PLAIN.fullmatch(text):
            amount = Decimal(text)
        elif _BR.fullmatch(text):
            amount = Decimal(text.replace(".", "").replace(",", "."))
        else:
            raise ValueError(f"not an amount: {value!r}")
    try:
        if not amount.is_finite() or amount != amount.quantize(CENT):
            raise ValueError(f"an amount has at most two decimals: {value!r}")
        return amount.quantize(CENT)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def brl(value: Decimal | int | str | None) -> str:
    """Decimal('1234.5') -> 'R$ 1.234,50'; None (no amount) -> '—'."""
    if value is None:
        return "—"
    q = Decimal(value).quantize(CENT)
    whole, cents = f"{abs(q):.2f}".split(".")
    return ("-" if q < 0 else "") + "R$ " + f"{int(whole):,}".replace(",", ".") + "," + cents


def decimal_br(value: Decimal | int | str | None, places: int = 2) -> str:
    """Decimal('1234.5') -> '1234,50': what a pt-BR form field or spreadsheet cell holds (no
    thousands separator, so `parse_money` reads it back unchanged); None -> ''."""
    if value is None:
        return ""
    return f"{Decimal(value):.{places}f}".replace(".", ",")
