"""Jinja filters for pt-BR money, dates and documents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Flask

from app.services.core.clock import to_br
from app.services.core.permissions import FULL_DOCUMENT_ROLES


def brl(value) -> str:
    if value is None:
        return "—"
    q = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if q < 0 else ""
    whole, cents = f"{abs(q):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}R$ {'.'.join(groups)},{cents}"


def date_br(value) -> str:
    if value is None:
        return "—"
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
    """LGPD minimisation: read-only roles see a masked CPF/CNPJ."""
    if not value:
        return "—"
    if role in FULL_DOCUMENT_ROLES:
        return document_formatted(value)
    from app.services.core.documents import InvalidDocument, normalize_document

    try:
        return normalize_document(value).masked
    except InvalidDocument:
        return "***"


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["brl"] = brl
    app.jinja_env.filters["date_br"] = date_br
    app.jinja_env.filters["doc"] = document_formatted
    app.jinja_env.filters["doc_for_role"] = document_for_role
