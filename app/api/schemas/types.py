"""The strict field types every API schema is built from.

Each type is the whole rule for its kind of value, so the same definition validates the input and
documents it in the OpenAPI contract (pydantic builds the JSON Schema from it):
- ids are positive integers up to 2^31 - 1 (the id columns are INTEGER, 32-bit on PostgreSQL;
  larger values used to reach SQL and 500);
- money is a JSON string "1234.56": ASCII digits, at most two decimals, no thousands separator, a
  sign only where the type says so, and an upper bound (the columns' NUMERIC(14, 2));
- dates are ISO calendar dates ("2026-03-16") between MIN_DATE and MAX_DATE;
- texts are bounded by the column they are stored in (`text_for(Model.column)`).

Body models are strict (no coercion: "false" is not a boolean, "12" is not an id, true is not an
integer) and refuse unknown fields. Query strings are text by nature, so query models parse ASCII
digits and the words true/false explicitly, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

# The id columns' range (INTEGER primary keys, 32-bit on PostgreSQL): one bound with the web's.
from app.services.core.ids import MAX_ID

MAX_MONEY = "999999999999.99"  # NUMERIC(14, 2), also the services' MAX_AMOUNT / MAX_LIMIT
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)
MAX_LIST = 500  # ids per request (a negativation or removal batch)

_MONEY = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
_SIGNED_MONEY = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: str.isdigit() also accepts "²" and "٣"


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    """`x: int = None` means "may be left out", not "may be null": publish no null default for it."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None and "anyOf" not in prop and prop.get("type") != "null":
            del prop["default"]


class StrictBody(BaseModel):
    """A JSON request body: no coercion, no unknown field."""

    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra=_drop_null_defaults)


class QueryModel(BaseModel):
    """Query-string parameters: unknown ones are refused; values are parsed by the types below."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_null_defaults)


class Out(BaseModel):
    """A response body. `extra="forbid"` makes the documented schema exact (additionalProperties:
    false), and the suite validates every answer against it, so the contract cannot drift."""

    model_config = ConfigDict(extra="forbid")


def _id_from_query(value: Any) -> Any:
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise PydanticCustomError("id_format", "Informe um número inteiro positivo (só algarismos 0-9).")
        return int(value)
    return value


def _bool_from_query(value: Any) -> Any:
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise PydanticCustomError("bool_format", "Use true ou false.")
        return value == "true"
    return value


def _check_date(value: str) -> str:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_format", "Data inválida (use AAAA-MM-DD).") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise PydanticCustomError("date_range", "Data fora do intervalo aceito ({low} a {high}).",
                                  {"low": MIN_DATE.isoformat(), "high": MAX_DATE.isoformat()})
    return value


# --- bodies ---------------------------------------------------------------------------------
Id = Annotated[int, Field(ge=1, le=MAX_ID, description="Identificador (inteiro positivo, até 2147483647).")]
IdList = Annotated[list[Id], Field(min_length=1, max_length=MAX_LIST)]
Money = Annotated[str, StringConstraints(pattern=_MONEY), Field(
    description=f'Valor em reais como texto: "1234.56" (até 2 casas, ponto decimal, até {MAX_MONEY}).',
    examples=["1234.56"])]
IsoDate = Annotated[str, StringConstraints(pattern=_DATE), AfterValidator(_check_date), Field(
    json_schema_extra={"format": "date"},
    description=f"Data ISO AAAA-MM-DD, de {MIN_DATE.isoformat()} a {MAX_DATE.isoformat()}.")]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]


def text(max_length: int, *, min_length: int = 0, description: str | None = None) -> Any:
    """A string of at most `max_length` characters (the column's length)."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length),
                     Field(description=description)]


def text_for(column: Any, *, min_length: int = 0) -> Any:
    """A string bounded by a mapped column's length: `text_for(Party.name)`."""
    return text(column.property.columns[0].type.length, min_length=min_length)


# --- query strings --------------------------------------------------------------------------
QId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_id_from_query)]
QBool = Annotated[bool, BeforeValidator(_bool_from_query)]


def q_int(low: int, high: int) -> Any:
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_id_from_query)]


Cursor = Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9_-]+$"), Field(
    description="Cursor opaco devolvido em `next_cursor` pela página anterior.")]

# --- answers ---------------------------------------------------------------------------------
MoneyOut = Annotated[str, Field(pattern=_SIGNED_MONEY, examples=["1234.56"])]
DateOut = Annotated[str, Field(json_schema_extra={"format": "date"})]
InstantOut = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
NextCursor = Annotated[str | None, Field(description="Cursor da próxima página; null na última.")]
