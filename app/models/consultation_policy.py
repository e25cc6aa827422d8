"""Per-branch consultation policy: reuse window, monthly quota, cost, retention, suggested decision.

One row per branch, saved from Configurações › Filiais › <filial> › Política de consultas; a branch
without a row uses the defaults of `app.services.consultations.rules.ConsultationPolicyValues`.
`updated_at` has no `onupdate` on purpose: consultations take a row lock on the branch, never here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ConsultationPolicy(Base):
    __tablename__ = "consultation_policies"
    __table_args__ = (
        CheckConstraint("reuse_days between 0 and 365", name="reuse_days_range"),
        CheckConstraint("monthly_quota is null or monthly_quota >= 1", name="monthly_quota_positive"),
        CheckConstraint("cost_per_consultation >= 0", name="cost_not_negative"),
        CheckConstraint("retention_days >= reuse_days", name="retention_covers_reuse"),
        CheckConstraint("reject_below_score <= approve_min_score", name="score_bands_ordered"),
        CheckConstraint("overdue_block_days between 0 and 3650", name="overdue_block_days_range"),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    # Rule 14: a document consulted within this many days is shown again, not paid again (0 = never).
    reuse_days: Mapped[int] = mapped_column(default=30)
    monthly_quota: Mapped[int | None]  # charged consultations per calendar month; None = no limit
    cost_per_consultation: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # Rule 15: after this many days the report's personal fields are cleared.
    retention_days: Mapped[int] = mapped_column(default=365)
    # Rule 16: the suggestion a person then applies or overrides.
    approve_min_score: Mapped[int] = mapped_column(default=700)
    reject_below_score: Mapped[int] = mapped_column(default=300)
    approve_risk_classes: Mapped[str] = mapped_column(String(10), default="A,B")
    reject_risk_classes: Mapped[str] = mapped_column(String(10), default="E")
    max_restrictions_for_approval: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    approved_limit: Mapped[Decimal] = mapped_column(default=Decimal("1000.00"))
    pending_limit: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # A client with one of its own titles here this many days overdue is suggested at most PEN with
    # limit 0, whatever the bureau says (0 = the titles here are not weighed).
    overdue_block_days: Mapped[int] = mapped_column(default=30)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
