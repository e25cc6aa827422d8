"""How far behind a client is with its own titles here (overdue: open or partial, an open amount,
due date before today — the definition in the titles section of docs/domain-rules.md)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Title
from app.models.titles import COLLECTIBLE_STATUSES


def longest_overdue_days(session: Session, party_id: int, today: dt.date) -> int:
    """Days the client's oldest overdue title is late today; 0 when nothing is overdue."""
    oldest = session.scalar(
        select(func.min(Title.due_date))
        .where(Title.party_id == party_id, Title.status.in_(COLLECTIBLE_STATUSES), Title.open_amount > 0,
               Title.due_date < today))
    return (today - oldest).days if oldest is not None else 0
