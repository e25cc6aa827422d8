"""Schemas: negativations, their events, removals, restriction reasons and title eligibility."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .types import (
    Cursor,
    DateOut,
    Id,
    IdList,
    InstantOut,
    MoneyOut,
    NextCursor,
    Out,
    QId,
    QueryModel,
    StrictBody,
    q_int,
    text,
)

Status = Literal["pending", "notice", "active", "error", "removal_pending", "removed"]
RestrictionCode = text(16, description="Código de restrição do bureau (veja restriction-reasons).")


class NegativationsQuery(QueryModel):
    status: Status = None
    party_id: QId = None
    branch_id: QId = None
    cursor: Cursor = None
    limit: q_int(1, 500) = 100


class NegTitleOut(Out):
    title_id: int | None
    number: str
    due_date: DateOut
    amount_sent: MoneyOut
    live: bool


class LastErrorOut(Out):
    code: str | None
    message: str | None
    kind: str | None


class NegativationOut(Out):
    id: int
    party_id: int
    branch_id: int
    status: Status
    status_label: str
    protocol: str | None
    restriction_code: str
    idempotency_key: str
    origin: Literal["manual", "routine"]
    requested_by: str
    created_at: InstantOut
    notice_until: DateOut | None
    activated_at: InstantOut | None
    total_amount: MoneyOut
    amount_received: MoneyOut
    removal_reason: str | None
    removal_requested_at: InstantOut | None
    removed_at: InstantOut | None
    paid_on: DateOut | None
    removal_deadline: DateOut | None
    deadline_met: bool | None
    attempts: int
    next_attempt_at: InstantOut | None
    last_error: LastErrorOut | None
    address_sent: dict[str, Any]
    titles: list[NegTitleOut]


class NegativationList(Out):
    items: list[NegativationOut]
    next_cursor: NextCursor


class NegativateIn(StrictBody):
    party_id: Id
    title_ids: IdList
    restriction_code: RestrictionCode | None = None


class OutcomeOut(Out):
    negativation_id: int
    status: str
    ok: bool
    message: str


class OutcomeWithNegativation(OutcomeOut):
    negativation: NegativationOut


class OutcomeList(Out):
    items: list[OutcomeOut]
    next_cursor: None = Field(description="Sempre null: um item por id enviado.")


class RemoveIn(StrictBody):
    ids: IdList
    reason: Literal["payment", "agreement", "error_correction", "manual"]
    note: text(500) | None = None


class ResendIn(StrictBody):
    restriction_code: RestrictionCode | None = None


class EventOut(Out):
    at: InstantOut
    kind: str
    message: str
    actor: str


class EventList(Out):
    items: list[EventOut]
    next_cursor: None = Field(description="Sempre null: a lista vem inteira.")


class ReasonsQuery(QueryModel):
    refresh: Literal["0", "1"] = Field(default="0", description="1: busca de novo no bureau (sem cache).")


class ReasonOut(Out):
    code: str
    description: str


class ReasonList(Out):
    person_type: Literal["PF", "PJ"]
    items: list[ReasonOut]
    next_cursor: None = Field(description="Sempre null: a lista vem inteira.")


class EligibilityOut(Out):
    title_id: int
    number: str
    eligible: bool
    code: str | None
    reason: str | None


class EligibilityList(Out):
    items: list[EligibilityOut]
    next_cursor: None = Field(description="Sempre null: a lista vem inteira.")
