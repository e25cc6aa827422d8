"""Jinja filters for pt-BR money, dates and documents."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from app.services.core.clock import now_br, to_br
from app.services.core.money import brl, decimal_br
from app.services.core.privacy import document_for

__all__ = [
    "amount_br", "brl", "bureau_status", "cep_br", "date_br", "decimal_br", "document_for_role", "document_formatted",
    "percent_br", "phone_br", "plural", "register_filters", "restriction_kind",
]


def date_br(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        # Dates kept as ISO text in JSON (e.g. reconciliation evidence): shown like any other date.
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return to_br(value).strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def document_formatted(value: str | None) -> str:
    if not value:
        return "—"
    from app.services.core.documents import InvalidDocument, normalize_document

    try:
        return normalize_document(value).formatted
    except InvalidDocument:
        return value


def document_for_role(value: str | None, role: str | None) -> str:
    """LGPD minimisation through the one privacy rule (app/services/core/privacy.py)."""
    return document_for(role, value) or "—"


def amount_br(value) -> str:
    """Decimal('5000') -> '5.000,00': an amount a person reads or edits, without the "R$"
    (`parse_money` reads the thousands dots back)."""
    if value is None or value == "":
        return ""
    return brl(value).replace("R$ ", "")


def percent_br(value) -> str:
    """Decimal('10') -> '10,00%'."""
    if value is None or value == "":
        return "—"
    return decimal_br(value) + "%"


def plural(n, one: str, many: str) -> str:
    """`1|plural('título', 'títulos')` -> '1 título'; 0 and 2+ take the plural, as pt-BR does."""
    count = int(n or 0)
    return f"{count} {one if count == 1 else many}"


def phone_br(value: str | None) -> str:
    """'11987654321' -> '(11) 98765-4321', '1133334444' -> '(11) 3333-4444'; other text as typed."""
    digits = "".join(c for c in (value or "") if c.isdigit())
    if digits.startswith("55") and len(digits) in (12, 13):
        digits = digits[2:]
    if len(digits) == 11:
        return f"({digits[:2]}) {digits[2:7]}-{digits[7:]}"
    if len(digits) == 10:
        return f"({digits[:2]}) {digits[2:6]}-{digits[6:]}"
    return value or "—"


def cep_br(value: str | None) -> str:
    """'01310100' -> '01310-100'."""
    digits = "".join(c for c in (value or "") if c.isdigit())
    return f"{digits[:5]}-{digits[5:]}" if len(digits) == 8 else (value or "—")


# The bureau's own negativation states (integrations/bureau.py NEGATIVATION_STATES), in the words
# the UI uses for credit-desk's states.
BUREAU_STATUS_LABELS = {"notice": "Em notificação", "active": "Ativo", "removed": "Baixada", "rejected": "Recusada"}


# The kinds of restriction a consultation report lists (the bureau's codes), in words.
RESTRICTION_KIND_LABELS = {"PEFIN": "Pendência financeira (PEFIN)", "PROTESTO": "Protesto em cartório",
                           "CHEQUE": "Cheque sem fundos", "ACAO": "Ação judicial"}


def restriction_kind(value: str | None) -> str:
    return RESTRICTION_KIND_LABELS.get(value or "", value or "—")


def bureau_status(value: str | None) -> str:
    return BUREAU_STATUS_LABELS.get(value or "", value or "—")


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["bureau_status"] = bureau_status
    app.jinja_env.filters["restriction_kind"] = restriction_kind
    app.jinja_env.filters["phone"] = phone_br
    app.jinja_env.filters["cep"] = cep_br
    app.jinja_env.globals["now_br"] = now_br
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.filters["amount_br"] = amount_br
    app.jinja_env.filters["pct"] = percent_br
    app.jinja_env.filters["brl"] = brl
    app.jinja_env.filters["decimal_br"] = decimal_br
    app.jinja_env.filters["date_br"] = date_br
    app.jinja_env.filters["doc"] = document_formatted
    app.jinja_env.filters["doc_for_role"] = document_for_role
