"""Deterministic credit profiles: the same document always gets the same name, score and
restrictions, so tests and demos can rely on them. Everything is drawn from a Random seeded by a
hash of the document, never from the simulator's fault generator."""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

_FIRST_NAMES = (
    "Maria", "José", "Ana", "João", "Francisca", "Antônio", "Adriana", "Carlos",
    "Juliana", "Paulo", "Márcia", "Lucas", "Fernanda", "Rafael", "Patrícia", "Marcos",
)  # fmt: skip
_SURNAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Araújo",
)  # fmt: skip
_COMPANY_NAMES = ("Conecta", "Horizonte", "Vale Verde", "Nova Era", "Atlântico", "Serra Azul", "Pioneira")
_COMPANY_ACTIVITIES = (
    "Comércio de Alimentos",
    "Materiais de Construção",
    "Serviços de Informática",
    "Transportes",
    "Distribuidora",
    "Telecomunicações",
)
_COMPANY_SUFFIXES = ("Ltda", "S.A.", "ME", "EPP")
_CREDITORS = {
    "PEFIN": (
        "Banco Horizonte S.A.",
        "Financeira Atlântica S.A.",
        "Lojas Paraná Ltda",
        "Energia Sul Distribuidora S.A.",
        "Vale Net Telecom Ltda",
    ),
    "PROTESTO": ("1º Tabelionato de Protesto de São Paulo", "2º Tabelionato de Protesto de Curitiba"),
    "CHEQUE": ("Banco do Cerrado S.A.", "Cooperativa de Crédito Sertão"),
    "ACAO": ("2ª Vara Cível de Campinas", "1ª Vara Cível de Belo Horizonte"),
}
_KINDS = tuple(_CREDITORS)
_KIND_WEIGHTS = (6, 2, 1, 1)
# A fixed anchor (not today) keeps occurrence dates identical from one day to the next.
_OCCURRENCE_ANCHOR = date(2024, 1, 1)
_CENTS = Decimal("0.01")


def risk_class(score: int) -> str:
    for floor, label in ((800, "A"), (600, "B"), (400, "C"), (200, "D")):
        if score >= floor:
            return label
    return "E"


def _rng_for(document: str, document_type: str) -> random.Random:
    digest = hashlib.sha256(f"{document_type}:{document}".encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _name(rng: random.Random, document_type: str) -> str:
    if document_type == "CPF":
        first = rng.choice(_FIRST_NAMES)
        middle, last = rng.sample(_SURNAMES, 2)
        return f"{first} {middle} {last}"
    return f"{rng.choice(_COMPANY_NAMES)} {rng.choice(_COMPANY_ACTIVITIES)} {rng.choice(_COMPANY_SUFFIXES)}"


def build_profile(document: str, document_type: str) -> dict[str, Any]:
    """Name, score, risk class and restrictions for a (valid) document."""
    rng = _rng_for(document, document_type)
    name = _name(rng, document_type)
    score = rng.randint(0, 1000)
    # Lower scores carry more restrictions, as they would in a real bureau.
    count = min(3, (1000 - score) // 250)
    if count and rng.random() < 0.3:
        count -= 1
    restrictions = []
    for _ in range(count):
        kind = rng.choices(_KINDS, weights=_KIND_WEIGHTS)[0]
        amount = (Decimal(rng.randint(3_000, 500_000)) / 100).quantize(_CENTS)
        occurred_on = _OCCURRENCE_ANCHOR + timedelta(days=rng.randint(0, 700))
        restrictions.append(
            {
                "creditor": rng.choice(_CREDITORS[kind]),
                "amount": str(amount),
                "occurred_on": occurred_on.isoformat(),
                "kind": kind,
            }
        )
    total = sum((Decimal(item["amount"]) for item in restrictions), Decimal("0.00"))
    return {
        "name": name,
        "score": score,
        "risk_class": risk_class(score),
        "restrictions": restrictions,
        "restrictions_total": str(total.quantize(_CENTS)),
    }
