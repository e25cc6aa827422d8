"""CPF and CNPJ validation, kept local: the simulator stands in for an external system and
must not share code with the application it is testing.

CPF: 11 digits, not all equal, two mod-11 check digits.
CNPJ: 14 characters, the first 12 in [0-9A-Z] (alphanumeric CNPJ, in force from July 2026),
the last 2 digits; each character counts as ord(char) - 48, weights 5..2,9..2 then 6..2,9..2.
"""

from __future__ import annotations

import re

_CPF_RE = re.compile(r"\d{11}")
_CNPJ_RE = re.compile(r"[0-9A-Z]{12}\d{2}")
_CNPJ_WEIGHTS_1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_WEIGHTS_2 = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)

DOCUMENT_TYPES = ("CPF", "CNPJ")


def is_valid_cpf(value: object) -> bool:
    if not isinstance(value, str) or not _CPF_RE.fullmatch(value) or len(set(value)) == 1:
        return False
    digits = [int(char) for char in value]
    for position in (9, 10):
        weights = range(position + 1, 1, -1)
        total = sum(digit * weight for digit, weight in zip(digits[:position], weights, strict=True))
        if (total * 10) % 11 % 10 != digits[position]:
            return False
    return True


def _cnpj_check_digit(values: list[int], weights: tuple[int, ...]) -> int:
    remainder = sum(value * weight for value, weight in zip(values, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


def is_valid_cnpj(value: object) -> bool:
    if not isinstance(value, str) or not _CNPJ_RE.fullmatch(value) or len(set(value)) == 1:
        return False
    values = [ord(char) - 48 for char in value]
    return (
        _cnpj_check_digit(values[:12], _CNPJ_WEIGHTS_1) == values[12]
        and _cnpj_check_digit(values[:13], _CNPJ_WEIGHTS_2) == values[13]
    )


def document_error(document: object, document_type: object) -> str | None:
    """A pt-BR message saying why the document is not acceptable, or None when it is valid."""
    if document_type not in DOCUMENT_TYPES:
        return "document_type deve ser CPF ou CNPJ"
    if not isinstance(document, str) or not document:
        return "document é obrigatório"
    if document_type == "CPF" and not is_valid_cpf(document):
        return "CPF inválido: informe 11 dígitos sem pontuação, com dígitos verificadores corretos"
    if document_type == "CNPJ" and not is_valid_cnpj(document):
        return "CNPJ inválido: informe 14 caracteres sem pontuação, com dígitos verificadores corretos"
    return None


def person_type(document_type: str) -> str:
    return "PF" if document_type == "CPF" else "PJ"
