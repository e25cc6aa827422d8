"""Validation of request bodies, with the bureau's pt-BR messages, and payload fingerprints."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

from .catalog import REMOVAL_REASONS, STATES, inclusion_codes
from .clock import add_years
from .documents import document_error, is_valid_cnpj, person_type

_MONEY_RE = re.compile(r"\d{1,13}(\.\d{1,2})?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ZIP_RE = re.compile(r"\d{8}")
_ADDRESS_TEXT_FIELDS = ("street", "number", "district", "city")
# Prescription of negative records: CDC art. 43 §1 and Súmula 323 STJ (5 years).
_PRESCRIPTION_YEARS = 5
MAX_TITLES = 100


def fingerprint(payload: Any) -> str:
    """Same data in any key order gives the same fingerprint (for Idempotency-Key checks)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _money(value: Any) -> Decimal | None:
    if not isinstance(value, str) or not _MONEY_RE.fullmatch(value):
        return None
    return Decimal(value)


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _debtor_error(debtor: Any) -> str | None:
    if not isinstance(debtor, dict):
        return "debtor é obrigatório"
    if not _filled(debtor.get("name")):
        return "debtor.name é obrigatório"
    address = debtor.get("address")
    # The notice letter (FAC) must be posted before the restriction shows: CDC art. 43 §2.
    if not isinstance(address, dict):
        return "Endereço completo do devedor é obrigatório para o envio da carta comunicado"
    for name in _ADDRESS_TEXT_FIELDS:
        if not _filled(address.get(name)):
            return f"debtor.address.{name} é obrigatório para o envio da carta comunicado"
    if address.get("state") not in STATES:
        return "debtor.address.state deve ser a sigla de uma UF (ex.: SP)"
    if not isinstance(address.get("zip"), str) or not _ZIP_RE.fullmatch(address["zip"]):
        return "debtor.address.zip deve ter 8 dígitos sem pontuação"
    return None


def _titles_error(titles: Any, today: date) -> tuple[str | None, Decimal]:
    if not isinstance(titles, list) or not titles:
        return "titles deve ter ao menos um título", Decimal(0)
    if len(titles) > MAX_TITLES:
        return f"no máximo {MAX_TITLES} títulos por negativação", Decimal(0)
    total = Decimal(0)
    seen: set[str] = set()
    for index, title in enumerate(titles):
        where = f"titles[{index}]"
        if not isinstance(title, dict):
            return f"{where} deve ser um objeto", total
        if not _filled(title.get("number")):
            return f"{where}.number é obrigatório", total
        if title["number"] in seen:
            return f"{where}.number repetido: {title['number']}", total
        seen.add(title["number"])
        due = _day(title.get("due_date"))
        if due is None:
            return f"{where}.due_date deve ser uma data AAAA-MM-DD", total
        if due >= today:
            return (
                f"{where}: título não vencido (vencimento {due.isoformat()}); a dívida não é exigível",
                total,
            )
        if today > add_years(due, _PRESCRIPTION_YEARS):
            return f"{where}: dívida vencida há mais de 5 anos não pode ser negativada", total
        amount = _money(title.get("amount"))
        if amount is None or amount <= 0:
            return f'{where}.amount deve ser um valor decimal em texto maior que zero (ex.: "99.90")', total
        total += amount
    return None, total


def negativation_error(payload: dict[str, Any], today: date) -> str | None:
    """Why the bureau rejects this inclusion (pt-BR), or None when it accepts it."""
    problem = document_error(payload.get("document"), payload.get("document_type"))
    if problem:
        return f"Documento do devedor: {problem}"
    kind = person_type(payload["document_type"])
    code = payload.get("restriction_code")
    if code not in inclusion_codes(kind):
        return f"restriction_code {code!r} não é um código de inclusão válido para {kind}"
    problem = _debtor_error(payload.get("debtor"))
    if problem:
        return problem
    creditor = payload.get("creditor")
    if not isinstance(creditor, dict) or not is_valid_cnpj(creditor.get("cnpj")):
        return "creditor.cnpj deve ser o CNPJ válido da filial credora"
    problem, titles_sum = _titles_error(payload.get("titles"), today)
    if problem:
        return problem
    total = _money(payload.get("total_amount"))
    if total is None:
        return 'total_amount deve ser um valor decimal em texto (ex.: "99.90")'
    if total != titles_sum:
        return f"total_amount {payload['total_amount']} difere da soma dos títulos ({titles_sum})"
    return None


def removal_reason_error(payload: dict[str, Any]) -> str | None:
    if payload.get("reason") not in REMOVAL_REASONS:
        return f"reason deve ser um de: {', '.join(REMOVAL_REASONS)}"
    return None
