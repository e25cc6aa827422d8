"""Panel figure: removals and their legal deadline (rule 9, removal after payment), alerts first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, Date, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app.models import Branch, Negativation, Party
from app.models.negativations import (
    NEGATIVATION_STATUS_LABELS,
    REMOVAL_REASON_LABELS,
    NegativationStatus,
    RemovalReason,
)
from app.services.collections.dashboard.sql import RECENT_DAYS, ZERO, br_date, money, start_of_br_day
from app.services.core.business_days import next_business_day
from app.services.core.clock import today_br

# The panel is a summary: the first rows, alerts first; the negativations list (status Baixa
# pendente) holds all of them, linked under the table when it is cut.
REMOVAL_ROWS_LIMIT = 50

# Removal categories, in display order; `alert` ones are shown in red / as warnings.
REMOVAL_CATEGORY_LABELS = {
    "removed_late": "Baixadas após o prazo legal",
    "pending_late": "Pendentes com prazo vencido",
    "pending_near": "Pendentes, prazo em até 1 dia útil",
    "pending_stuck": "Pendentes sem prazo legal desde um dia anterior",
    "pending": "Pendentes no prazo",
    "removed_on_time": "Baixadas no prazo",
    "no_deadline": "Sem prazo legal (baixa por outro motivo)",
}
# Short forms for chart axes (the chart's label column fits about 22 characters).
REMOVAL_CATEGORY_SHORT = {
    "removed_late": "Baixada após o prazo",
    "pending_late": "Pendente após o prazo",
    "pending_near": "Vence em até 1 dia útil",
    "pending_stuck": "Parada desde outro dia",
    "pending": "Pendente no prazo",
    "removed_on_time": "Baixada no prazo",
    "no_deadline": "Sem prazo legal",
}
LATE_CATEGORIES = ("removed_late", "pending_late")
# pending_stuck: a removal without a Súmula 548 deadline (agreement, error correction, prescription,
# by hand) must still happen at once (rules 3, 10, 11); one pending since an earlier day is stuck.
ALERT_CATEGORIES = ("removed_late", "pending_late", "pending_near", "pending_stuck")


@dataclass(frozen=True)
class RemovalRow:
    negativation_id: int
    party_name: str
    branch_name: str
    status: str
    status_label: str
    reason_label: str | None
    amount: Decimal
    paid_on: dt.date | None
    removal_deadline: dt.date | None
    removed_at: dt.datetime | None  # removal confirmed by the bureau (UTC instant)
    category: str

    @property
    def late(self) -> bool:
        return self.category in LATE_CATEGORIES

    @property
    def near_deadline(self) -> bool:
        return self.category == "pending_near"

    @property
    def stuck(self) -> bool:
        return self.category == "pending_stuck"

    @property
    def category_label(self) -> str:
        return REMOVAL_CATEGORY_LABELS[self.category]


@dataclass(frozen=True)
class RemovalCategory:
    key: str
    label: str
    count: int
    amount: Decimal

    @property
    def short_label(self) -> str:
        return REMOVAL_CATEGORY_SHORT[self.key]

    @property
    def late(self) -> bool:
        return self.key in LATE_CATEGORIES

    @property
    def alert(self) -> bool:
        return self.key in ALERT_CATEGORIES


@dataclass(frozen=True)
class Removals:
    since: dt.date  # removed entries: confirmed on or after this day; pending ones: all
    categories: list[RemovalCategory]
    rows: list[RemovalRow]  # alerts first, at most `limit`
    total: int
    limit: int

    @property
    def late_count(self) -> int:
        return sum(c.count for c in self.categories if c.late)

    @property
    def near_count(self) -> int:
        return sum(c.count for c in self.categories if c.key == "pending_near")

    @property
    def stuck_count(self) -> int:
        return sum(c.count for c in self.categories if c.key == "pending_stuck")

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


def _near_deadline_limit(session: Session, branch_id: int | None, today: dt.date) -> ColumnElement[dt.date]:
    """Per branch, the last deadline that is "within 1 business day" of today: the next business
    day of the branch's state (rule 9 counts business days by the branch's state). Branches are
    few; the mapping becomes one CASE."""
    stmt = select(Branch.id, Branch.state)
    if branch_id is not None:
        stmt = stmt.where(Branch.id == branch_id)
    by_state: dict[str | None, dt.date] = {}
    mapping: dict[int, dt.date] = {}
    for bid, state in session.execute(stmt):
        if state not in by_state:
            by_state[state] = next_business_day(today, state)
        mapping[bid] = by_state[state]
    national = next_business_day(today, None)
    if not mapping:
        return literal(national, Date)
    return case(
        *[(Negativation.branch_id == bid, literal(day, Date)) for bid, day in mapping.items()],
        else_=literal(national, Date),
    )


def removals(
    session: Session,
    *,
    branch_id: int | None = None,
    today: dt.date | None = None,
    limit: int = REMOVAL_ROWS_LIMIT,
) -> Removals:
    """Removals and their legal deadline (domain rule 9, Súmula 548 STJ / REsp 1.424.792).

    Entries shown: every entry still `removal_pending` (however old: a stuck one is the worst
    case), and every `removed` entry whose removal the bureau confirmed in the last 30 days
    (today and the 29 days before, Brasília time). Each one falls in one category:
    - removed_late: removed, and the day the removal was confirmed is after `removal_deadline`;
    - pending_late: still pending and today is after `removal_deadline`;
    - pending_near: still pending and the deadline is today or the branch's next business day
      (the alert of rule 9: near the deadline and not yet removed);
    - pending / removed_on_time: within the deadline;
    - pending_stuck: a removal with no Súmula 548 deadline (not after a payment: agreement, error
      correction, manual, prescription), still pending since an earlier day (Brasília): these must
      happen at once (rules 3, 10, 11), so one left from another day is an alert too;
    - no_deadline: the other removals with no `paid_on` and so no Súmula 548 deadline.
    The categories are counted in SQL; the rows (alerts first, then by deadline) are capped at
    `limit`.
    """
    today = today or today_br()
    since = today - dt.timedelta(days=RECENT_DAYS - 1)
    pending = Negativation.status == NegativationStatus.REMOVAL_PENDING.value
    deadline = Negativation.removal_deadline
    category = case(
        (and_(deadline.is_(None), pending, br_date(session, Negativation.removal_requested_at) < today),
         literal("pending_stuck")),
        (deadline.is_(None), literal("no_deadline")),
        (and_(~pending, br_date(session, Negativation.removed_at) > deadline), literal("removed_late")),
        (~pending, literal("removed_on_time")),
        (deadline < today, literal("pending_late")),
        (deadline <= _near_deadline_limit(session, branch_id, today), literal("pending_near")),
        else_=literal("pending"),
    )
    scope = or_(
        pending,
        and_(
            Negativation.status == NegativationStatus.REMOVED.value,
            Negativation.removed_at >= start_of_br_day(since),
        ),
    )
    if branch_id is not None:
        scope = and_(scope, Negativation.branch_id == branch_id)
    entries = (
        select(
            Negativation.id.label("negativation_id"),
            Party.name.label("party_name"),
            Branch.name.label("branch_name"),
            Negativation.status,
            Negativation.removal_reason,
            Negativation.total_amount,
            Negativation.paid_on,
            deadline.label("removal_deadline"),
            Negativation.removed_at,
            category.label("category"),
        )
        .join(Party, Party.id == Negativation.party_id)
        .join(Branch, Branch.id == Negativation.branch_id)
        .where(scope)
        .subquery()
    )

    totals = select(entries.c.category, func.count(), func.sum(entries.c.total_amount)).group_by(entries.c.category)
    found = {key: (count, money(amount)) for key, count, amount in session.execute(totals)}
    categories = [
        RemovalCategory(key, label, *found.get(key, (0, ZERO))) for key, label in REMOVAL_CATEGORY_LABELS.items()
    ]

    priority = case(
        *[(entries.c.category == key, literal(i)) for i, key in enumerate(REMOVAL_CATEGORY_LABELS)],
        else_=literal(len(REMOVAL_CATEGORY_LABELS)),
    )
    rows_stmt = select(entries).order_by(priority, entries.c.removal_deadline, entries.c.negativation_id).limit(limit)
    rows = [
        RemovalRow(
            negativation_id=r.negativation_id,
            party_name=r.party_name,
            branch_name=r.branch_name,
            status=r.status,
            status_label=NEGATIVATION_STATUS_LABELS[NegativationStatus(r.status)],
            reason_label=REMOVAL_REASON_LABELS[RemovalReason(r.removal_reason)] if r.removal_reason else None,
            amount=money(r.total_amount),
            paid_on=r.paid_on,
            removal_deadline=r.removal_deadline,
            removed_at=r.removed_at,
            category=r.category,
        )
        for r in session.execute(rows_stmt)
    ]
    return Removals(since, categories, rows, sum(c.count for c in categories), limit)
