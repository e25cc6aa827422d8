"""Receivables (títulos a receber) and their payments.

Overdue is derived, never stored: open or partial, open amount > 0, today after the due date.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin, utcnow


class TitleStatus(enum.StrEnum):
    OPEN = "open"
    PARTIAL = "partial"  # open with some amount received
    PAID = "paid"
    CANCELLED = "cancelled"
    RENEGOTIATED = "renegotiated"


TITLE_STATUS_LABELS = {
    TitleStatus.OPEN: "Aberto",
    TitleStatus.PARTIAL: "Parcial",
    TitleStatus.PAID: "Pago",
    TitleStatus.CANCELLED: "Cancelado",
    TitleStatus.RENEGOTIATED: "Renegociado",
}
COLLECTIBLE_STATUSES = (TitleStatus.OPEN.value, TitleStatus.PARTIAL.value)


class Title(Base, TimestampMixin):
    __tablename__ = "titles"
    __table_args__ = (
        UniqueConstraint("branch_id", "number"),
        CheckConstraint("status in ('open','partial','paid','cancelled','renegotiated')", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_received >= 0", name="received_not_negative"),
        CheckConstraint("open_amount >= 0", name="open_not_negative"),
        # The collections selection: collectible titles of a branch by due date.
        Index("ix_titles_branch_status_due", "branch_id", "status", "due_date"),
        Index("ix_titles_party_status", "party_id", "status"),
        Index("ix_titles_due_date", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    number: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(String(300))
    issue_date: Mapped[dt.date]
    due_date: Mapped[dt.date]
    amount: Mapped[Decimal]
    amount_received: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    open_amount: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(14), default=TitleStatus.OPEN.value)
    disputed: Mapped[bool] = mapped_column(default=False)
    dispute_reason: Mapped[str | None] = mapped_column(String(300))
    court_blocked: Mapped[bool] = mapped_column(default=False)  # a court order forbids negativation
    payment_link: Mapped[str | None] = mapped_column(String(500))
    # manual | import | api | credit_purchase (issued from an invoiced purchase, rule 22 (settlement))
    origin: Mapped[str] = mapped_column(String(20), default="manual")
    purchase_id: Mapped[int | None] = mapped_column(index=True)
    paid_on: Mapped[dt.date | None]  # day the last payment made the open amount zero
    cancelled_at: Mapped[dt.datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)

    party = relationship("Party")
    branch = relationship("Branch")
    payments: Mapped[list[Payment]] = relationship(back_populates="title", order_by="Payment.id",
                                                   cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return TITLE_STATUS_LABELS[TitleStatus(self.status)]

    def is_overdue(self, today: dt.date) -> bool:
        return self.status in COLLECTIBLE_STATUSES and self.open_amount > 0 and today > self.due_date

    def days_overdue(self, today: dt.date) -> int:
        return (today - self.due_date).days if self.is_overdue(today) else 0


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[dt.date]
    amount: Mapped[Decimal]
    method: Mapped[str | None] = mapped_column(String(30))
    reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))

    title: Mapped[Title] = relationship(back_populates="payments")
