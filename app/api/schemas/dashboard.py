"""Schemas: the collections dashboard ("Painel de cobrança")."""

from __future__ import annotations

from .types import DateOut, InstantOut, MoneyOut, Out, QId, QueryModel


class DashboardQuery(QueryModel):
    branch_id: QId = None


class AgingBucket(Out):
    key: str
    label: str
    count: int
    amount: MoneyOut


class Aging(Out):
    count: int
    amount: MoneyOut
    buckets: list[AgingBucket]


class StatusCount(Out):
    status: str
    label: str
    count: int
    amount: MoneyOut


class RemovalCategory(Out):
    key: str
    label: str
    count: int
    amount: MoneyOut
    late: bool
    alert: bool


class RemovalRow(Out):
    negativation_id: int
    party_name: str | None
    branch_name: str | None
    status: str
    status_label: str
    removal_reason: str | None
    amount: MoneyOut
    paid_on: DateOut | None
    removal_deadline: DateOut | None
    removed_at: InstantOut | None
    category: str
    late: bool
    near_deadline: bool
    stuck: bool


class Removals(Out):
    since: DateOut
    total: int
    late: int
    near_deadline: int
    stuck: int
    truncated: bool
    categories: list[RemovalCategory]
    rows: list[RemovalRow]


class RecoveryWindow(Out):
    days: int
    amount_paid: MoneyOut
    share_percent: str | None


class Recovery(Out):
    min_age_days: int
    accepted_until: DateOut
    negativations: int
    amount_sent: MoneyOut
    windows: list[RecoveryWindow]


class RunDay(Out):
    day: DateOut
    runs: int
    by_status: dict[str, int]
    included: int
    removed: int


class Runs(Out):
    since: DateOut
    total_runs: int
    total_included: int
    total_removed: int
    days: list[RunDay]


class DashboardOut(Out):
    today: DateOut
    branch_id: int | None
    aging: Aging
    negativations_by_status: list[StatusCount]
    removals: Removals
    recovery: Recovery
    runs: Runs
