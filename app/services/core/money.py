"""Money as Decimal with two places: the one parser of what people and files type (`parse_money`)
and the one pt-BR formatter (`brl` for display, `decimal_br` for form fields and CSV cells)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
_PLAIN = re.compile(r"-?\d+(\.\d{1,2})?", re.ASCII)  # ASCII: "١٢٣" or "１２" are not amounts
_BR = re.compile(r"-?\d{1,3}(\.\d{3})*(,\d{1,2})?|-?\d+(,\d{1,2})?", re.ASCII)


class InvalidAmount(ValueError):
    """Not an amount of money; `message` says why in pt-BR, for the field that holds it."""

    def __init__(self, detail: str, message: str = "Informe um valor em reais, por exemplo 1.500,00."):
        super().__init__(detail)
        self.message = message


_THOUSANDS = re.compile(r"-?\d{1,3}(\.\d{3})+", re.ASCII)
_AMBIGUOUS = re.compile(r"-?\d+,\d{3,}", re.ASCII)


def parse_money(value: object) -> Decimal:
    """'1.234,56', '1234,56', '1234.56', '1.000' (a thousand, as people type it here), Decimal or int
    -> Decimal with two places. Floats are refused.

    Raises InvalidAmount (a ValueError) for anything else: more than two decimals, letters, empty,
    and "12,345" — a comma followed by three digits is ambiguous (twelve thousand? twelve and a
    third of a real?), so it is refused with a message instead of guessed."""
    if isinstance(value, float):
        raise ValueError("money must not be a float")
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        amount = Decimal(value)
    else:
        text = str(value or "").strip().replace("R$", "").replace(" ", "")
        if _BR.fullmatch(text) and ("," in text or _THOUSANDS.fullmatch(text)):
            # pt-BR first: "1.000" is a thousand reais, never one real (no one types R$ 1,00 so).
            amount = Decimal(text.replace(".", "").replace(",", "."))
        elif _PLAIN.fullmatch(text):
            amount = Decimal(text)
        elif _AMBIGUOUS.fullmatch(text):
            raise InvalidAmount(f"ambiguous amount: {value!r}",
                                f"Valor ambíguo: “{text}”. Use até duas casas depois da vírgula (12,34) "
                                "ou pontos para os milhares (12.345,00).")
        else:
            raise InvalidAmount(f"not an amount: {value!r}")
    try:
        if not amount.is_finite() or amount != amount.quantize(CENT):
            raise InvalidAmount(f"an amount has at most two decimals: {value!r}",
                                "Use no máximo duas casas decimais, por exemplo 1.500,00.")
        return amount.quantize(CENT)
    except InvalidOperation as exc:
        raise InvalidAmount(f"not an amount: {value!r}") from exc


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
