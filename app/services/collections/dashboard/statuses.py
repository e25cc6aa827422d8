"""Panel figure: every negativation by status, with the amount sent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Negativation
from app.models.negativations import NEGATIVATION_STATUS_LABELS, NegativationStatus
from app.services.collections.dashboard.sql import ZERO, money


@dataclass(frozen=True)
class StatusTotal:
    status: str
    label: str
    count: int
    amount: Decimal  # sum of the amounts sent (Negativation.total_amount)


def negativations_by_status(session: Session, *, branch_id: int | None = None) -> list[StatusTotal]:
    """Every negativation by status: count and the amount sent (`total_amount`), all six statuses."""
    stmt = select(Negativation.status, func.count(Negativation.id), func.sum(Negativation.total_amount)).group_by(
        Negativation.status
    )
    if branch_id is not None:
        stmt = stmt.where(Negativation.branch_id == branch_id)
    found = {status: (count, money(amount)) for status, count, amount in session.execute(stmt)}
    return [
        StatusTotal(s.value, NEGATIVATION_STATUS_LABELS[s], *found.get(s.value, (0, ZERO)))
        for s in NegativationStatus
    ]
