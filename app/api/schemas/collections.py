"""Schemas: collection parameters per branch, runs and their items."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .types import Cursor, DateOut, Id, InstantOut, NextCursor, Out, QId, QueryModel, StrictBody, q_int, text


class PolicyIn(StrictBody):
    """Fields left out keep their current value."""

    enabled: bool = None
    handle_by_title: bool = None
    days_to_execute: int = Field(default=None, ge=60, le=1800)
    grouping: Literal["client", "title"] = None
    run_time: text(5) = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["06:00"])
    max_concurrency: int = Field(default=None, ge=1, le=32)
    rate_limit_per_s: int | None = Field(default=None, ge=1, le=10_000)


class PolicyOut(Out):
    branch_id: int
    enabled: bool
    handle_by_title: bool
    days_to_execute: int
    grouping: str
    run_time: str
    max_concurrency: int
    rate_limit_per_s: int | None


class RunIn(StrictBody):
    branch_id: Id
    dry_run: bool = Field(default=False, description="true: simula e responde 200; false: enfileira (202).")


class RunOut(Out):
    id: int
    branch_id: int
    trigger: str
    dry_run: bool
    requested_by: str
    status: str
    days_to_execute: int
    scheduled_for: DateOut | None
    started_at: InstantOut | None
    finished_at: InstantOut | None
    counts: dict[str, Any]
    skip_reasons: dict[str, Any]
    errors: list[Any]
    message: str | None


class RunList(Out):
    items: list[RunOut]
    next_cursor: NextCursor


class RunsQuery(QueryModel):
    branch_id: QId = None
    cursor: Cursor = None
    limit: q_int(1, 200) = 50


class RunItemOut(Out):
    id: int
    action: str
    title_id: int | None
    party_id: int | None
    negativation_id: int | None
    reason_code: str | None
    message: str | None


class RunDetail(RunOut):
    items: list[RunItemOut] = Field(description="Itens da execução, 500 por página.")
    next_cursor: NextCursor


class RunItemsQuery(QueryModel):
    cursor: Cursor = None
