"""Schemas: purchase authorisation, reservations and settlement, credit accounts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .types import (
    Cursor,
    DateOut,
    Id,
    InstantOut,
    IsoDate,
    Money,
    MoneyOut,
    NextCursor,
    Out,
    QId,
    QueryModel,
    StrictBody,
    q_int,
    text,
)

Method = Literal["pix", "cartao", "boleto_antecipado", "boleto_faturado"]
CustomerStatus = Literal["PEN", "APV", "RPV"]
Term = text(40, description='Prazo em dias, crescentes e separados por "/": "28" ou "30/60/90".')
TERM_PATTERN = r"^[0-9]{1,3}(/[0-9]{1,3}){0,23}$"


class AuthorizeIn(StrictBody):
    branch_id: Id
    document: text(18, min_length=1, description="CPF ou CNPJ, com ou sem pontuação.")
    amount: Money
    method: Method
    order_ref: text(30) | None = Field(default=None, description="Número do pedido na plataforma.")
    installment_term: Term | None = Field(default=None, pattern=TERM_PATTERN)


class ReservationTitleOut(Out):
    id: int
    number: str
    issue_date: DateOut
    due_date: DateOut
    amount: MoneyOut
    open_amount: MoneyOut
    status: str


class ReservationOut(Out):
    id: int
    branch_id: int
    party_id: int
    order_ref: str
    amount: MoneyOut
    status: str
    installment_term: str | None
    expires_at: InstantOut
    invoice_date: DateOut | None
    titles: list[ReservationTitleOut]


class AuthorizeOut(Out):
    approved: bool
    code: str
    message: str
    method: str
    amount: MoneyOut
    party_id: int | None
    customer_status: str | None
    available: MoneyOut | None
    reservation: ReservationOut | None = Field(default=None, description="Só quando o crédito foi reservado.")


class ReservationsQuery(QueryModel):
    order_ref: text(30) = Field(default=None, description="Com branch_id: o pedido dessa filial.")
    branch_id: QId = None
    status: Literal["active", "settled", "cancelled", "expired"] = None
    cursor: Cursor = None
    limit: q_int(1, 200) = 200


class ReservationList(Out):
    items: list[ReservationOut]
    next_cursor: NextCursor


class AmountIn(StrictBody):
    amount: Money


class SettleIn(StrictBody):
    installment_term: Term | None = Field(default=None, pattern=TERM_PATTERN)
    invoice_date: IsoDate | None = None


class ReasonIn(StrictBody):
    reason: text(300) | None = None


class AccountOut(Out):
    party_id: int
    branch_id: int | None
    document: str | None
    name: str
    external_id: str | None
    status: str
    limit: MoneyOut
    tolerance_pct: MoneyOut
    tolerance_enabled: bool
    used: MoneyOut
    reserved: MoneyOut
    available: MoneyOut


class AccountsQuery(QueryModel):
    q: text(200) = None
    branch_id: QId = None
    status: CustomerStatus = None
    sort: Literal["name", "limit", "used", "available", "status"] = "name"
    order: Literal["asc", "desc"] = "asc"
    cursor: Cursor = None
    limit: q_int(1, 200) = 200


class AccountRowOut(Out):
    party_id: int
    name: str
    document: str | None
    status: str
    branch: str
    limit: MoneyOut
    used: MoneyOut
    available: MoneyOut


class AccountList(Out):
    items: list[AccountRowOut]
    next_cursor: NextCursor


class LimitIn(StrictBody):
    limit: Money
    reason: text(500, min_length=1)
    tolerance_pct: Money | None = Field(default=None, description="Tolerância em %, de 0 a 100.")


class StatusIn(StrictBody):
    status: CustomerStatus
    reason: text(500, min_length=1)


class ResendOut(Out):
    update_id: int
    status: str


class ExportQuery(QueryModel):
    branch_id: QId = None
    status: CustomerStatus = None


class ImportQuery(QueryModel):
    branch_id: QId = None
    reason: text(500) = None


class CsvLineOut(Out):
    line: int
    document: str
    ok: bool
    message: str


class ImportCsvOut(Out):
    ok: int
    errors: int
    lines: list[CsvLineOut]


CSV = {"text/csv": {"schema": {"type": "string"}}}
