"""Schemas: reconciliation with the bureau (divergences, runs, the one-click actions of the page)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.models.reconciliation import KIND_VALUES, RUN_STATUSES
from app.services.reconciliation.actions import MARKABLE_REASONS

from .negativations import Status as NegativationStatus
from .types import Count, Cursor, DateOut, Id, InstantOut, NextCursor, Out, QId, QueryModel, StrictBody, q_int, text

Kind = Literal[KIND_VALUES]
RunStatus = Literal[RUN_STATUSES]


class DivergencesQuery(QueryModel):
    status: Literal["open", "closed", "all"] = Field(default="open", description="all: abertas e fechadas.")
    kind: Kind = None
    branch_id: QId = None
    cursor: Cursor = None
    limit: q_int(1, 200) = Field(default=50, description="Itens por página (1 a 200).")


class DivergenceOut(Out):
    id: int
    kind: Kind
    kind_label: str
    status: Literal["open", "closed"]
    branch_id: int
    negativation_id: int
    opened_at: InstantOut
    last_seen_at: InstantOut
    seen_count: Count
    closed_at: InstantOut | None
    close_reason: str | None
    evidence: dict[str, Any] = Field(description="Os dois lados como vistos por último: local, bureau, checked_at.")


class DivergenceList(Out):
    items: list[DivergenceOut] = Field(description="Abertas primeiro, das mais recentes às mais antigas.")
    next_cursor: NextCursor
    open_counts: dict[Kind, Count] = Field(description="Divergências abertas por tipo (da filial, se filtrada).")


class RunsQueueIn(StrictBody):
    branch_id: Id | None = Field(default=None, description="Padrão: toda filial ativa com integração.")


class ReconciliationRunOut(Out):
    id: int
    branch_id: int
    trigger: Literal["scheduled", "catch_up", "manual", "api", "cli"]
    status: RunStatus
    requested_by: str
    scheduled_for: DateOut | None
    created_at: InstantOut
    started_at: InstantOut | None
    finished_at: InstantOut | None
    rate_per_s: float | None = Field(description="O ritmo das chamadas ao bureau (por segundo).")
    total: Count
    checked: Count
    skipped: Count
    errors: Count
    resumed: Count
    counts: dict[Kind, Count] = Field(description="Divergências vistas por esta conciliação, por tipo.")
    opened: Count
    closed: Count
    message: str | None


class QueuedRunList(Out):
    items: list[ReconciliationRunOut] = Field(description="Uma conciliação por filial (a já enfileirada, se houver).")
    next_cursor: None = Field(description="Sempre null: a lista vem inteira.")


class ReconciliationRunsQuery(QueryModel):
    branch_id: QId = None
    cursor: Cursor = None
    limit: q_int(1, 200) = Field(default=30, description="Itens por página (1 a 200).")


class ReconciliationRunList(Out):
    items: list[ReconciliationRunOut] = Field(description="Das mais recentes às mais antigas.")
    next_cursor: NextCursor


class RecheckOut(Out):
    negativation_id: int
    outcome: Literal["checked", "skipped", "error"]
    kinds: list[Kind] = Field(description="As divergências que a verificação viu.")
    opened: list[int] = Field(description="Ids das divergências abertas agora.")
    closed: Count
    message: str


class MarkRemovedIn(StrictBody):
    reason: Literal[MARKABLE_REASONS]
    note: text(300) | None = None


class ActionOutcomeOut(Out):
    negativation_id: int
    status: NegativationStatus
    ok: bool
    message: str
