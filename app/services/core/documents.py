"""CPF and CNPJ: validation and normalisation (domain rules 17 and 18).

Every document that enters credit-desk goes through `normalize_document` (or `normalize_cpf` /
`normalize_cnpj` when the kind is known), the one wrapper around python-stdnum:

- Cleaning: ".", "-", "/" and spaces are removed (python-stdnum also maps their Unicode look-alikes,
  such as the en dash or the no-break space), surrounding whitespace is dropped, letters are
  upper-cased. Any other character (letters with accents, "@", ",", Unicode digits) is refused.
- The length after cleaning decides the kind: 11 is a CPF, 14 is a CNPJ, anything else is refused.
- CPF (rule 17): exactly 11 digits; shorter input is NOT zero-padded; all-equal digits are refused
  even though their check digits match (python-stdnum accepts 111.111.111-11); then check digits.
- CNPJ (rule 18): exactly 14 characters; the first 12 are [0-9A-Z] (alphanumeric CNPJ, from July
  2026), the last 2 are digits; all-equal characters are refused; check digits use the
  character's ASCII code minus 48 (python-stdnum >= 2.2, `stdnum.br.cnpj.calc_check_digits`).

Documents are always text: a CPF such as "012.345.678-90" starts with a zero that an int loses.
Error messages never repeat the document (LGPD).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf
from stdnum.exceptions import ValidationError as StdnumValidationError

from app.services.core.errors import ValidationError

DocumentKind = Literal["CPF", "CNPJ"]
PersonType = Literal["PF", "PJ"]

CPF_LENGTH = 11
CNPJ_LENGTH = 14

_CLEANED_RE = re.compile(r"[0-9A-Z]+")
_CPF_RE = re.compile(r"[0-9]{11}")
_CNPJ_RE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")


class InvalidDocument(ValidationError, ValueError):
    """A CPF or CNPJ that cannot be accepted.

    `message` is pt-BR, for people; `code` is stable, for the API. Codes: `empty`, `not_text`,
    `invalid_character`, `invalid_length`, `cpf_not_digits`, `cnpj_check_not_digits`,
    `repeated_characters`, `check_digits`, `invalid_kind`.
    """

    code = "invalid_document"

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code)


@dataclass(frozen=True, slots=True, repr=False)
class Document:
    """A valid CPF or CNPJ, compact (no punctuation, upper case), always text.

    Build it with `normalize_document`; building it directly validates the compact number too.
    `repr()` shows only the masked number, so that logs and tracebacks do not carry it (LGPD).
    """

    number: str
    kind: DocumentKind

    def __post_init__(self) -> None:
        if self.kind == "CPF":
            _check_cpf(self.number)
        elif self.kind == "CNPJ":
            _check_cnpj(self.number)
        else:
            raise InvalidDocument("Documento inválido: o tipo deve ser CPF ou CNPJ", code="invalid_kind")

    @property
    def person_type(self) -> PersonType:
        """PF (pessoa física) for a CPF, PJ (pessoa jurídica) for a CNPJ."""
        return "PF" if self.kind == "CPF" else "PJ"

    @property
    def formatted(self) -> str:
        """000.000.000-00 for a CPF, AA.AAA.AAA/AAAA-00 for a CNPJ."""
        if self.kind == "CPF":
            return stdnum_cpf.format(self.number)
        return stdnum_cnpj.format(self.number)

    @property
    def masked(self) -> str:
        """The number for roles that do not need all of it (LGPD art. 6 III, data minimisation).

        CPF: "***.456.789-**": hides the first three digits and the check digits, the pattern the
        federal government uses when it publishes CPFs (Portal da Transparência).
        CNPJ: "12.ABC.345/****-**": keeps the root, which identifies the company and is public in
        the Receita Federal's open data, and hides the branch order and the check digits.
        The mask keeps the formatted layout, so masked and formatted numbers line up in a column.
        """
        formatted = self.formatted
        if self.kind == "CPF":
            return "***" + formatted[3:12] + "**"
        return formatted[:11] + "****-**"

    def __repr__(self) -> str:
        return f"Document(kind={self.kind!r}, masked={self.masked!r})"


def normalize_document(value: str) -> Document:
    """Validate a CPF or CNPJ typed by a person or received from an API; the kind is its length.

    Raises `InvalidDocument` with a pt-BR message (rules 17 and 18, see the module docstring).
    """
    cleaned = _clean(value)
    if len(cleaned) == CPF_LENGTH:
        return Document(cleaned, "CPF")
    if len(cleaned) == CNPJ_LENGTH:
        return Document(cleaned, "CNPJ")
    raise InvalidDocument(
        "Documento inválido: informe um CPF (11 dígitos) ou CNPJ (14 caracteres)",
        code="invalid_length",
    )


def normalize_cpf(value: str) -> Document:
    """Like `normalize_document`, but only a CPF is accepted."""
    return Document(_clean(value), "CPF")


def normalize_cnpj(value: str) -> Document:
    """Like `normalize_document`, but only a CNPJ is accepted."""
    return Document(_clean(value), "CNPJ")


def is_valid_document(value: str) -> bool:
    """True when `normalize_document` accepts the value."""
    try:
        normalize_document(value)
    except InvalidDocument:
        return False
    return True


def _clean(value: str) -> str:
    if not isinstance(value, str):
        # An int has already lost a CPF's leading zeros; never guess them back.
        raise InvalidDocument("Documento inválido: deve ser informado como texto", code="not_text")
    # str.upper() turns some non-ASCII letters into ASCII ones ("ı" -> "I", "ß" -> "SS"), so any
    # non-ASCII letter or digit is refused before upper-casing.
    for char in value:
        if char.isalnum() and not char.isascii():
            raise _invalid_character(char)
    # stdnum's CNPJ compact is exactly the cleaning of rules 17 and 18 for both kinds: it maps
    # Unicode dashes and spaces to ASCII, removes " -./", strips whitespace and upper-cases.
    cleaned = stdnum_cnpj.compact(value)
    if not cleaned:
        raise InvalidDocument("Documento vazio", code="empty")
    if not _CLEANED_RE.fullmatch(cleaned):
        raise _invalid_character(next(c for c in cleaned if not _CLEANED_RE.fullmatch(c)))
    return cleaned


def _invalid_character(char: str) -> InvalidDocument:
    return InvalidDocument(
        f"Documento inválido: caractere não permitido {char!r} "
        "(use apenas letras, dígitos e a pontuação . - /)",
        code="invalid_character",
    )


def _check_cpf(number: str) -> None:
    """Rule 17, on a cleaned number: 11 digits, not all equal, then the check digits."""
    if len(number) != CPF_LENGTH:
        raise InvalidDocument("CPF inválido: deve ter 11 dígitos", code="invalid_length")
    if not _CPF_RE.fullmatch(number):
        raise InvalidDocument("CPF inválido: deve conter apenas dígitos", code="cpf_not_digits")
    if len(set(number)) == 1:
        # python-stdnum accepts these: 111.111.111-11 has matching check digits.
        raise InvalidDocument("CPF inválido: todos os dígitos são iguais", code="repeated_characters")
    try:
        stdnum_cpf.validate(number)
    except StdnumValidationError:
        raise InvalidDocument(
            "CPF inválido: dígitos verificadores não conferem", code="check_digits"
        ) from None


def _check_cnpj(number: str) -> None:
    """Rule 18, on a cleaned number: 12 of [0-9A-Z] and 2 digits, not all equal, check digits."""
    if len(number) != CNPJ_LENGTH:
        raise InvalidDocument("CNPJ inválido: deve ter 14 caracteres", code="invalid_length")
    if not _CNPJ_RE.fullmatch(number):
        if _CLEANED_RE.fullmatch(number):
            raise InvalidDocument(
                "CNPJ inválido: os dois últimos caracteres devem ser dígitos",
                code="cnpj_check_not_digits",
            )
        raise _invalid_character(next(c for c in number if not _CLEANED_RE.fullmatch(c)))
    if len(set(number)) == 1:
        raise InvalidDocument("CNPJ inválido: todos os caracteres são iguais", code="repeated_characters")
    try:
        stdnum_cnpj.validate(number)
    except StdnumValidationError:
        raise InvalidDocument(
            "CNPJ inválido: dígitos verificadores não conferem", code="check_digits"
        ) from None
