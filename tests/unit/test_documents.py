"""Rules 17 and 18: CPF and CNPJ validation through the one wrapper around python-stdnum."""

from __future__ import annotations

import dataclasses

import pytest

from app.services.core.documents import (
    Document,
    InvalidDocument,
    is_valid_document,
    normalize_cnpj,
    normalize_cpf,
    normalize_document,
)
from app.services.core.errors import ValidationError

GENERIC_LENGTH = "Documento inválido: informe um CPF (11 dígitos) ou CNPJ (14 caracteres)"


def _error(value, normalize=normalize_document) -> InvalidDocument:
    with pytest.raises(InvalidDocument) as info:
        normalize(value)
    return info.value


# --- CPF -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("529.982.247-25", "52998224725"),
        ("52998224725", "52998224725"),
        (" 529 982 247 25 ", "52998224725"),
        ("390.533.447/05", "39053344705"),  # "/" is punctuation too
        ("529\u00a0982\u00a0247\u201325", "52998224725"),  # no-break spaces and an en dash
        ("012.345.678-90", "01234567890"),  # the leading zero is kept: documents are text
    ],
)
def test_valid_cpf_is_compacted(value, number):
    assert normalize_document(value) == Document(number, "CPF")
    assert normalize_cpf(value).number == number
    assert is_valid_document(value) is True


@pytest.mark.parametrize("value", ["123456789", "1234567890", "12.345.678-90"])
def test_short_cpf_is_refused_not_zero_padded(value):
    # 1234567890 is the valid CPF 012.345.678-90 with its leading zero lost: padding would accept it.
    assert _error(value).message == GENERIC_LENGTH
    assert _error(value).code == "invalid_length"
    assert _error(value, normalize_cpf).message == "CPF inválido: deve ter 11 dígitos"
    assert is_valid_document(value) is False


@pytest.mark.parametrize("digit", "0123456789")
def test_all_equal_cpf_is_refused(digit):
    # python-stdnum accepts 111.111.111-11 (its check digits match); the guard must catch it.
    error = _error(digit * 11)
    assert error.message == "CPF inválido: todos os dígitos são iguais"
    assert error.code == "repeated_characters"


def test_cpf_with_wrong_check_digit_is_refused():
    error = _error("529.982.247-24")
    assert error.message == "CPF inválido: dígitos verificadores não conferem"
    assert error.code == "check_digits"
    assert is_valid_document("529.982.247-24") is False


@pytest.mark.parametrize("value", ["529.982.247-2A", "A29.982.247-25", "5299822472x"])
def test_letters_in_a_cpf_are_refused(value):
    error = _error(value)
    assert error.message == "CPF inválido: deve conter apenas dígitos"
    assert error.code == "cpf_not_digits"


def test_an_int_is_refused_because_documents_are_text():
    error = _error(1234567890)
    assert error.message == "Documento inválido: deve ser informado como texto"
    assert error.code == "not_text"
    assert is_valid_document(52998224725) is False


# --- CNPJ ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("11.222.333/0001-81", "11222333000181"),
        ("11222333000181", "11222333000181"),
        ("16.727.230/0001-97", "16727230000197"),
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),  # alphanumeric, the Receita Federal's example
        ("12abc34501de35", "12ABC34501DE35"),  # lower case is upper-cased first
        ("12.abc.345/01De-35", "12ABC34501DE35"),
    ],
)
def test_valid_cnpj_is_compacted_and_upper_cased(value, number):
    assert normalize_document(value) == Document(number, "CNPJ")
    assert normalize_cnpj(value).number == number
    assert is_valid_document(value) is True


def test_alphanumeric_cnpj_check_digits_use_ascii_minus_48():
    # 12ABI34501DE: with ord(c) - 48 ("I" = 25) the check digits are 42; any other is refused.
    assert normalize_cnpj("12.ABI.345/01DE-42").number == "12ABI34501DE42"
    assert _error("12.ABI.345/01DE-43").message == "CNPJ inválido: dígitos verificadores não conferem"


@pytest.mark.parametrize("value", ["00.000.000/0000-00", "11.111.111/1111-11", "99999999999999"])
def test_all_equal_cnpj_is_refused(value):
    error = _error(value)
    assert error.message == "CNPJ inválido: todos os caracteres são iguais"
    assert error.code == "repeated_characters"


def test_cnpj_with_wrong_check_digits_is_refused():
    error = _error("12.ABC.345/01DE-36")
    assert error.message == "CNPJ inválido: dígitos verificadores não conferem"
    assert error.code == "check_digits"


@pytest.mark.parametrize("value", ["12ABC34501DE", "12ABC34501DE3", "12ABC34501DE351", "112223330001811"])
def test_cnpj_of_wrong_length_is_refused(value):
    assert _error(value).message == GENERIC_LENGTH
    assert _error(value, normalize_cnpj).message == "CNPJ inválido: deve ter 14 caracteres"


@pytest.mark.parametrize("value", ["12.ABC.345/01DE-A5", "12.ABC.345/01DE-3B", "12ABC34501DEXY"])
def test_letters_in_the_cnpj_check_digits_are_refused(value):
    error = _error(value)
    assert error.message == "CNPJ inválido: os dois últimos caracteres devem ser dígitos"
    assert error.code == "cnpj_check_not_digits"


# --- cleaning and kind -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "char"),
    [
        ("529.982.247@25", "@"),
        ("529,982,247-25", ","),
        ("12.ÁBC.345/01DE-35", "Á"),
        ("529.982.247_25", "_"),
        ("5299\t8224725", "\t"),
        # str.upper() turns "ı" into "I": 12ABI34501DE42 is a valid CNPJ, this input must not be
        ("12abı34501de42", "ı"),
        ("\uff15\uff12\uff19.982.247-25", "\uff15"),  # fullwidth digits
    ],
)
def test_any_other_character_is_refused(value, char):
    error = _error(value)
    assert error.message == (
        f"Documento inválido: caractere não permitido {char!r} "
        "(use apenas letras, dígitos e a pontuação . - /)"
    )
    assert error.code == "invalid_character"


@pytest.mark.parametrize("value", ["", "   ", ".-/", " . - / "])
def test_empty_document_is_refused(value):
    assert _error(value).message == "Documento vazio"
    assert _error(value).code == "empty"


def test_kind_restricted_helpers_refuse_the_other_kind():
    assert _error("11.222.333/0001-81", normalize_cpf).message == "CPF inválido: deve ter 11 dígitos"
    assert _error("529.982.247-25", normalize_cnpj).message == "CNPJ inválido: deve ter 14 caracteres"


def test_invalid_document_is_a_value_error_and_a_domain_validation_error():
    error = _error("123")
    assert isinstance(error, ValueError)
    assert isinstance(error, ValidationError)
    assert str(error) == GENERIC_LENGTH


def test_document_built_directly_is_validated():
    with pytest.raises(InvalidDocument, match="todos os dígitos são iguais"):
        Document("11111111111", "CPF")
    with pytest.raises(InvalidDocument, match="deve ter 11 dígitos"):
        Document("529.982.247-25", "CPF")
    with pytest.raises(InvalidDocument, match="o tipo deve ser CPF ou CNPJ"):
        Document("52998224725", "RG")


def test_document_is_frozen():
    document = normalize_document("529.982.247-25")
    with pytest.raises(dataclasses.FrozenInstanceError):
        document.number = "11111111111"


# --- presentation ----------------------------------------------------------------------------


def test_cpf_presentation():
    document = normalize_document("52998224725")
    assert document.kind == "CPF"
    assert document.person_type == "PF"
    assert document.formatted == "529.982.247-25"
    assert document.masked == "***.982.247-**"
    assert normalize_document("01234567890").formatted == "012.345.678-90"
    assert normalize_document("123.456.789-09").masked == "***.456.789-**"


def test_cnpj_presentation():
    document = normalize_document("12abc34501de35")
    assert document.kind == "CNPJ"
    assert document.person_type == "PJ"
    assert document.formatted == "12.ABC.345/01DE-35"
    assert document.masked == "12.ABC.345/****-**"
    numeric = normalize_document("11222333000181")
    assert numeric.formatted == "11.222.333/0001-81"
    assert numeric.masked == "11.222.333/****-**"


def test_repr_shows_only_the_masked_number():
    assert repr(normalize_document("529.982.247-25")) == "Document(kind='CPF', masked='***.982.247-**')"
    assert "52998224725" not in repr(normalize_document("529.982.247-25"))
