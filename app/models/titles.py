"""Receivables (títulos a receber) and their payments.

Overdue is derived, never stored: open or partial, open amount > 0, today after the due date.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import transitions
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

# Every status change of a title, and only these (`Title.move_to` checks it). Paid, cancelled and
# renegotiated are final: a cancelled or renegotiated title is never collected.
TITLE_TRANSITIONS: transitions.TransitionTable = {
    None: frozenset({TitleStatus.OPEN}),  # issued by hand, by CSV import or from an invoiced purchase
    TitleStatus.OPEN: frozenset(
        {TitleStatus.PARTIAL, TitleStatus.PAID, TitleStatus.CANCELLED, TitleStatus.RENEGOTIATED}
    ),
    TitleStatus.PARTIAL: frozenset({TitleStatus.PAID, TitleStatus.CANCELLED, TitleStatus.RENEGOTIATED}),
    TitleStatus.PAID: frozenset(),
    TitleStatus.CANCELLED: frozenset(),
    TitleStatus.RENEGOTIATED: frozenset(),
}
_STATUS_LABELS = {status.value: label for status, label in TITLE_STATUS_LABELS.items()}


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
        # The titles list's sorts, paged by keyset (the column, then the id): a page is a range of
        # one of these instead of a sort of every title (docs/benchmarks.md).
        Index("ix_titles_due_date_id", "due_date", "id"),
        Index("ix_titles_issue_date_id", "issue_date", "id"),
        Index("ix_titles_number_id", "number", "id"),
        Index("ix_titles_amount_id", "amount", "id"),
        Index("ix_titles_open_amount_id", "open_amount", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # active_history: the old branch, due date, status and open amount are known at flush time, so the
    # ledger of open totals (title_totals.py) can take away what a change moved.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), active_history=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    number: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(String(300))
    issue_date: Mapped[dt.date]
    due_date: Mapped[dt.date] = mapped_column(active_history=True)
    amount: Mapped[Decimal]
    amount_received: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    open_amount: Mapped[Decimal] = mapped_column(active_history=True)
    status: Mapped[str] = mapped_column(String(14), default=TitleStatus.OPEN.value, active_history=True)
    disputed: Mapped[bool] = mapped_column(default=False)
    dispute_reason: Mapped[str | None] = mapped_column(String(300))
    court_blocked: Mapped[bool] = mapped_column(default=False)  # a court order forbids negativation
    # "Não negativar": a negativation of this title was removed by hand (rules 10 and 11: an agreement,
    # an error or a person's decision). Neither the routine nor a person without confirmation sends it
    # again until a person clears the hold; who, when and why are in the audit trail and the notes.
    hold_at: Mapped[dt.datetime | None]
    hold_reason: Mapped[str | None] = mapped_column(String(20))  # the removal reason (RemovalReason)
    hold_negativation_id: Mapped[int | None]
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

    def move_to(self, new_status: str, *, paid_on: dt.date | None = None, at: dt.datetime | None = None) -> None:
        """The one way to change the status (TITLE_TRANSITIONS; a forbidden change raises Conflict).
        Paid records `paid_on` (required: the day the open amount reached zero); cancelled records
        `cancelled_at` (`at`, default now)."""
        new = TitleStatus(new_status)
        if new is TitleStatus.PAID and paid_on is None:
            raise ValueError("a title moves to paid with the day it was paid")
        transitions.check(TITLE_TRANSITIONS, _STATUS_LABELS, f"Título {self.number}", self.status, new)
        self.status = new.value
        if new is TitleStatus.PAID:
            self.paid_on = paid_on
        elif new is TitleStatus.CANCELLED:
            self.cancelled_at = at or utcnow()
        if new in (TitleStatus.CANCELLED, TitleStatus.RENEGOTIATED):
            # A cancelled or renegotiated title owes nothing (titles section of docs/domain-rules.md):
            # open = 0 on every path, so no list, tab or sum shows it as open.
            self.open_amount = Decimal("0.00")

    def settle(self, *, paid_on: dt.date | None = None) -> None:
        """After `amount_received` / `open_amount` changed: paid when nothing is left open (on
        `paid_on`), partial when something was received, otherwise open; moves only when that
        differs from the current status."""
        if self.open_amount == 0:
            target = TitleStatus.PAID
        else:
            target = TitleStatus.PARTIAL if self.amount_received > 0 else TitleStatus.OPEN
        if target != self.status:
            self.move_to(target, paid_on=paid_on)

    @property
    def held(self) -> bool:
        return self.hold_at is not None

    def is_overdue(self, today: dt.date) -> bool:
        return self.status in COLLECTIBLE_STATUSES and self.open_amount > 0 and today > self.due_date

    def days_overdue(self, today: dt.date) -> int:
        return (today - self.due_date).days if self.is_overdue(today) else 0


# The Títulos search finds a number by its beginning, case ignored (`upper(number) LIKE 'T-1%'`);
# text_pattern_ops lets PostgreSQL use the index whatever the database's collation.
Index(
    "ix_titles_number_upper",
    func.upper(Title.__table__.c.number).label("number_upper"),
    postgresql_ops={"number_upper": "text_pattern_ops"},
)


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
