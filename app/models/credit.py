"""Credit accounts of B2B clients, their history, reservations (pre-authorisations) and the
per-branch credit policy (rules 19 to 22).

Used credit is never stored: it is derived from the open titles of credit purchases and the
active reservations, so a payment recorded anywhere restores the limit by itself (rule 21).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin, utcnow

DEFAULT_TERMS = ["7", "28", "45", "30/60", "30/60/90"]  # rule 22 (installment terms)'s examples
DEFAULT_RESERVATION_DAYS = 5  # rule 22 (reservation): held for 5 business days of the branch, then it lapses


class RestoreMode(enum.StrEnum):
    """Rule 21: paid titles always restore the limit; cancelled ones only when the seller chooses."""

    PAYMENT = "payment"
    PAYMENT_AND_CANCELLATION = "payment_and_cancellation"


RESTORE_MODE_LABELS = {
    RestoreMode.PAYMENT: "Somente no pagamento",
    RestoreMode.PAYMENT_AND_CANCELLATION: "No pagamento e no cancelamento",
}

# Party fields the commerce platform may be told never to overwrite; "address" is the group.
PROTECTED_FIELD_LABELS = {
    "name": "Nome",
    "email": "E-mail",
    "state_registration": "Inscrição estadual",
    "phone": "Telefone",
    "mobile": "Celular",
    "address": "Endereço",
}
ADDRESS_FIELDS = ("street", "number", "complement", "district", "city", "state", "zip")


class CreditPolicy(Base, TimestampMixin):
    """One row per branch, created on first save; a branch without a row uses the defaults."""

    __tablename__ = "credit_policies"
    __table_args__ = (
        CheckConstraint("restore_mode in ('payment','payment_and_cancellation')", name="restore_mode"),
        CheckConstraint("reservation_business_days between 1 and 30", name="reservation_days_range"),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    # Rule 19 (customer status): "clientes PEN podem comprar à vista"; off means only APV buys.
    pen_can_buy_upfront: Mapped[bool] = mapped_column(default=True)
    # Rule 20 (available credit): tolerance is a feature the seller turns on; then each account has its own %.
    tolerance_enabled: Mapped[bool] = mapped_column(default=False)
    restore_mode: Mapped[str] = mapped_column(String(30), default=RestoreMode.PAYMENT.value)
    installment_terms: Mapped[list[Any]] = mapped_column(default=lambda: list(DEFAULT_TERMS))
    # Business days of the branch's state (weekends and holidays do not count); the reservation
    # lasts until the end of the last one, Brasília time.
    reservation_business_days: Mapped[int] = mapped_column(default=DEFAULT_RESERVATION_DAYS)
    platform_url: Mapped[str | None] = mapped_column(String(300))
    platform_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    protected_fields: Mapped[list[Any]] = mapped_column(default=list)

    branch = relationship("Branch")


class CreditAccount(Base, TimestampMixin):
    """The credit account ("conta corrente") of one client."""

    __tablename__ = "credit_accounts"
    __table_args__ = (
        CheckConstraint("credit_limit >= 0", name="limit_not_negative"),
        # The upper bound (100 %) is checked by the service: Money is stored in hundredths on SQLite.
        CheckConstraint("tolerance_pct >= 0", name="tolerance_not_negative"),
        Index("ix_credit_accounts_branch_limit", "branch_id", "credit_limit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), unique=True)
    credit_limit: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    tolerance_pct: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))

    party = relationship("Party")
    branch = relationship("Branch")


class CreditLimitChange(Base):
    __tablename__ = "credit_limit_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    old_limit: Mapped[Decimal]
    new_limit: Mapped[Decimal]
    old_tolerance_pct: Mapped[Decimal]
    new_tolerance_pct: Mapped[Decimal]
    reason: Mapped[str] = mapped_column(String(500))


class CustomerStatusChange(Base):
    __tablename__ = "customer_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_status: Mapped[str] = mapped_column(String(3))
    to_status: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(500))


class ReservationStatus(enum.StrEnum):
    ACTIVE = "active"
    SETTLED = "settled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


RESERVATION_STATUS_LABELS = {
    ReservationStatus.ACTIVE: "Reservada",
    ReservationStatus.SETTLED: "Faturada",
    ReservationStatus.CANCELLED: "Cancelada",
    ReservationStatus.EXPIRED: "Expirada",
}


class Reservation(Base, TimestampMixin):
    """An invoiced-boleto purchase: pre-authorised (active), then settled into titles (rule 22).

    `amount` is the order's current amount, before and after settlement. Titles issued for it
    carry `purchase_id` = this id.
    """

    __tablename__ = "credit_reservations"
    __table_args__ = (
        UniqueConstraint("branch_id", "order_ref"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status in ('active','settled','cancelled','expired')", name="status"),
        Index("ix_credit_reservations_party_status", "party_id", "status"),
        Index("ix_credit_reservations_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("credit_accounts.id"))
    order_ref: Mapped[str] = mapped_column(String(30))
    method: Mapped[str] = mapped_column(String(20), default="boleto_faturado")
    amount: Mapped[Decimal]
    installment_term: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default=ReservationStatus.ACTIVE.value)
    expires_at: Mapped[dt.datetime]
    invoice_date: Mapped[dt.date | None]
    settled_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(80))

    party = relationship("Party")
    branch = relationship("Branch")
    titles = relationship(
        "Title", primaryjoin="foreign(Title.purchase_id) == Reservation.id", viewonly=True,
        order_by="Title.due_date, Title.id",
    )

    @property
    def status_label(self) -> str:
        return RESERVATION_STATUS_LABELS[ReservationStatus(self.status)]


class CreditRelease(Base):
    """A cancelled credit title whose amount no longer counts against the limit.

    When the branch restores credit only on payment (rule 21), a cancelled title keeps using the
    limit until a person releases it, or until a decrease of its order cancelled it (rule 22).
    """

    __tablename__ = "credit_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"), unique=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(300))
