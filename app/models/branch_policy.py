"""Per-branch negativation policy: the creditor's own limits (domain rules 3, 6 and 8).

One row per branch, created on first use with the defaults below. The collections routine
keeps its own parameters in a model of its own (`collections.CollectionPolicy`).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin

DEFAULT_PRESCRIPTION_YEARS = 5  # rule 3: CDC art. 43 §1, Súmula 323 STJ
DEFAULT_NOTICE_DAYS = 10  # rule 6: shown until the bureau answers with its own notice_until


class BranchPolicy(Base, TimestampMixin):
    __tablename__ = "branch_policies"
    __table_args__ = (
        CheckConstraint("min_amount >= 0", name="min_amount_not_negative"),
        CheckConstraint("prescription_years between 1 and 5", name="prescription_years_range"),
        CheckConstraint("notice_days between 1 and 90", name="notice_days_range"),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    # Rule 8: debts below this open amount are never negativated (creditor's policy, no legal minimum).
    min_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # Rule 3: some debts prescribe sooner than five years; never longer than the CDC's five.
    prescription_years: Mapped[int] = mapped_column(default=DEFAULT_PRESCRIPTION_YEARS)
    notice_days: Mapped[int] = mapped_column(default=DEFAULT_NOTICE_DAYS)

    branch = relationship("Branch")
