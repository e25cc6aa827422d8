"""Schemas: titles (list, get, create, update, cancel, renegotiate, dispute, release a hold) and payments."""

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
    QBool,
    QId,
    QueryModel,
    StrictBody,
    q_int,
    text,
)

Status = Literal["open", "partial", "paid", "cancelled", "renegotiated"]


class TitlesQuery(QueryModel):
    branch_id: QId = None
    party_id: QId = None
    status: Status = None
    overdue: QBool = None
    aging: Literal["1-30", "31-60", "61-90", "91-180", "180+"] = None
    negativated: QBool = None
    number: text(40) = None
    sort: Literal["due_date", "issue_date", "number", "amount", "open_amount", "id"] = "due_date"
    order: Literal["asc", "desc"] = "asc"
    cursor: Cursor = None
    limit: q_int(1, 500) = 100


class TitleHold(Out):
    since: InstantOut
    reason: str
    negativation_id: int | None


class TitleOut(Out):
    id: int
    branch_id: int
    party_id: int
    number: str
    description: str | None
    issue_date: DateOut
    due_date: DateOut
    amount: MoneyOut
    amount_received: MoneyOut
    open_amount: MoneyOut
    status: Status
    overdue: bool
    days_overdue: int
    disputed: bool
    dispute_reason: str | None
    court_blocked: bool
    payment_link: str | None
    origin: str | None
    paid_on: DateOut | None
    negativation_id: int | None = Field(description="A negativação viva do título (só na consulta de um título).")
    hold: TitleHold | None = Field(description="\"Não negativar\": uma negativação do título foi baixada à mão "
                                               "(acordo, correção de erro ou decisão); só uma pessoa libera.")


class TitleListItem(TitleOut):
    negativated: bool


class TitleList(Out):
    items: list[TitleListItem]
    next_cursor: NextCursor


class PaymentOut(Out):
    id: int
    title_id: int
    paid_on: DateOut
    amount: MoneyOut
    method: str | None
    reference: str | None
    created_by: str


class TitleDetail(TitleOut):
    payments: list[PaymentOut]


class TitleUpdate(StrictBody):
    """PUT: fields left out keep their value."""

    party_id: Id = None
    branch_id: Id = None
    number: text(40, min_length=1) = None
    issue_date: IsoDate = None
    due_date: IsoDate = None
    amount: Money = None
    description: text(300) | None = None
    payment_link: text(500) | None = None
    court_blocked: bool = None


class TitleCreate(TitleUpdate):
    party_id: Id
    branch_id: Id | None = Field(default=None, description="Padrão: a filial do cliente.")
    number: text(40, min_length=1)
    issue_date: IsoDate
    due_date: IsoDate
    amount: Money
    court_blocked: bool = False


class RemovalOut(Out):
    negativation_id: int
    status: str
    message: str


class TitleWithRemovals(TitleOut):
    removals: list[RemovalOut] = Field(description="Baixas de negativação pedidas ao bureau por esta operação.")


class CancelIn(StrictBody):
    reason: text(300) | None = None


class RenegotiateIn(StrictBody):
    note: text(300) | None = None


class DisputeIn(StrictBody):
    disputed: bool = True
    reason: text(300) | None = None


class ReleaseHoldIn(StrictBody):
    reason: text(300, min_length=1) = Field(description="Por que o título pode ser negativado de novo "
                                                        "(ao menos 5 caracteres; vai ao histórico).")


class PaymentList(Out):
    items: list[PaymentOut]
    next_cursor: None = Field(description="Sempre null: a lista vem inteira.")


class PaymentIn(StrictBody):
    amount: Money
    paid_on: IsoDate | None = Field(default=None, description="Padrão: hoje. Nem futura nem antes da emissão.")
    method: text(30) | None = None
    reference: text(100) | None = None


class PaymentResult(Out):
    payment: PaymentOut
    title: TitleOut
    removals: list[RemovalOut]
