"""Negativations (inclusions in the bureau's negative list), their titles and their history.

`pending` and `removal_pending` rows are the outbox (docs/architecture.md): they are committed with
their Idempotency-Key BEFORE the bureau is called, so a crash or a timeout is resolved by
retrying the same key. `NegativationTitle.live` is true while the negativation is live (pending,
notice, active, removal_pending); a partial unique index on it makes it impossible for a title
to be in two live negativations at once (domain rule 7).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import transitions
from .base import Base, TimestampMixin, utcnow


class NegativationStatus(enum.StrEnum):
    PENDING = "pending"
    NOTICE = "notice"
    ACTIVE = "active"
    ERROR = "error"
    REMOVAL_PENDING = "removal_pending"
    REMOVED = "removed"


NEGATIVATION_STATUS_LABELS = {
    NegativationStatus.PENDING: "Pendente",
    NegativationStatus.NOTICE: "Em notificação",
    NegativationStatus.ACTIVE: "Ativo",
    NegativationStatus.ERROR: "Erro",
    NegativationStatus.REMOVAL_PENDING: "Baixa pendente",
    NegativationStatus.REMOVED: "Baixada",
}
LIVE_STATUSES = ("pending", "notice", "active", "removal_pending")  # its titles are `live` (rule 7)

# Every status change of a negativation, and only these (`Negativation.move_to` checks it).
NEGATIVATION_TRANSITIONS: transitions.TransitionTable = {
    # Created as an outbox row, committed before the bureau is called.
    None: frozenset({NegativationStatus.PENDING}),
    # The bureau accepted (in notice, or active at once), refused for good, or the debt was paid,
    # renegotiated or cancelled before the answer came (rule 9, removal after payment; rule 10,
    # partial payment and renegotiation; rule 11, correction of an error).
    NegativationStatus.PENDING: frozenset(
        {NegativationStatus.NOTICE, NegativationStatus.ACTIVE, NegativationStatus.ERROR,
         NegativationStatus.REMOVAL_PENDING}
    ),
    # Rule 6 (notice period): active once the notice period ends. The bureau may also remove or
    # reject the entry on its own.
    NegativationStatus.NOTICE: frozenset(
        {NegativationStatus.ACTIVE, NegativationStatus.REMOVAL_PENDING, NegativationStatus.REMOVED,
         NegativationStatus.ERROR}
    ),
    NegativationStatus.ACTIVE: frozenset(
        {NegativationStatus.REMOVAL_PENDING, NegativationStatus.REMOVED, NegativationStatus.ERROR}
    ),
    # Resent after the data was fixed: nothing exists at the bureau after a definitive refusal.
    NegativationStatus.ERROR: frozenset({NegativationStatus.PENDING}),
    # Removed by the bureau, or refused for good when the inclusion it first replays was never made.
    NegativationStatus.REMOVAL_PENDING: frozenset({NegativationStatus.REMOVED, NegativationStatus.ERROR}),
    # The daily reconciliation found the entry still live at the bureau: the removal is sent again.
    NegativationStatus.REMOVED: frozenset({NegativationStatus.REMOVAL_PENDING}),
}
_STATUS_LABELS = {status.value: label for status, label in NEGATIVATION_STATUS_LABELS.items()}


class RemovalReason(enum.StrEnum):
    PAYMENT = "payment"
    AGREEMENT = "agreement"
    ERROR_CORRECTION = "error_correction"
    MANUAL = "manual"
    EXPIRED = "expired"


REMOVAL_REASON_LABELS = {
    RemovalReason.PAYMENT: "Pagamento",
    RemovalReason.AGREEMENT: "Acordo / renegociação",
    RemovalReason.ERROR_CORRECTION: "Correção de erro",
    RemovalReason.MANUAL: "Manual",
    RemovalReason.EXPIRED: "Prescrição (5 anos)",
}
# What a person may choose when removing by hand: expiry is the routine's reason alone (rule 3
# (five years from the due date)), never a person's.
MANUAL_REMOVAL_REASONS = {k: v for k, v in REMOVAL_REASON_LABELS.items() if k != RemovalReason.EXPIRED}
# Entries a removal may be asked for (the from-states of removal_pending in the transitions table):
# on their way to the bureau or visible there; the others are
# already leaving or gone.
REMOVABLE_STATUSES = tuple(status for status in transitions.sources_of(
    NEGATIVATION_TRANSITIONS, NegativationStatus.REMOVAL_PENDING) if status in LIVE_STATUSES)


class Negativation(Base, TimestampMixin):
    __tablename__ = "negativations"
    __table_args__ = (
        CheckConstraint(
            "status in ('pending','notice','active','error','removal_pending','removed')", name="status"
        ),
        CheckConstraint("origin in ('manual','routine')", name="origin"),
        # The outbox scan: rows waiting for a (re)try, by due instant.
        Index("ix_negativations_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_negativations_party_id", "party_id", "id"),
        Index("ix_negativations_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("bureau_integrations.id", ondelete="SET NULL")
    )
    restriction_code: Mapped[str] = mapped_column(String(16))
    document: Mapped[str] = mapped_column(String(14))
    document_type: Mapped[str] = mapped_column(String(4))  # CPF | CNPJ
    # Generated and committed before the first call; every retry of the same payload reuses it.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    removal_idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    protocol: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=NegativationStatus.PENDING.value)
    notice_until: Mapped[dt.date | None]
    activated_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]  # when the bureau accepted the inclusion
    removal_reason: Mapped[str | None] = mapped_column(String(20))
    removal_requested_at: Mapped[dt.datetime | None]
    removed_at: Mapped[dt.datetime | None]  # removal confirmed by the bureau
    paid_on: Mapped[dt.date | None]  # rule 9: the day the negativated debt was fully paid
    removal_deadline: Mapped[dt.date | None]  # rule 9: Súmula 548, business days of the branch's state
    requested_by: Mapped[str] = mapped_column(String(80))  # user name, "api:user" or "rotina"
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    origin: Mapped[str] = mapped_column(String(10), default="manual")
    # Exactly what was sent: the bureau request as JSON (debtor with address, creditor, titles).
    payload: Mapped[dict[str, Any]]
    total_amount: Mapped[Decimal]
    amount_received: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))  # rule 10: partial payments
    attempts: Mapped[int] = mapped_column(default=0)
    removal_attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(10))  # permanent | transient

    party = relationship("Party")
    branch = relationship("Branch")
    titles: Mapped[list[NegativationTitle]] = relationship(
        back_populates="negativation", order_by="NegativationTitle.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[NegativationEvent]] = relationship(
        back_populates="negativation", order_by="NegativationEvent.id", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return NEGATIVATION_STATUS_LABELS[NegativationStatus(self.status)]

    @property
    def removal_reason_label(self) -> str | None:
        return REMOVAL_REASON_LABELS[RemovalReason(self.removal_reason)] if self.removal_reason else None

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def move_to(self, new_status: str) -> None:
        """The one way to change the status (NEGATIVATION_TRANSITIONS; a forbidden change raises
        Conflict). `NegativationTitle.live` follows here and only here: rule 7 (one active
        negativation per title per bureau) is the unique index that reads it."""
        what = f"Negativação nº {self.id}" if self.id else "Negativação"
        transitions.check(NEGATIVATION_TRANSITIONS, _STATUS_LABELS, what, self.status, new_status)
        self.status = NegativationStatus(new_status).value
        live = self.status in LIVE_STATUSES
        for nt in self.titles:
            nt.live = live

    @property
    def debtor_address(self) -> dict[str, Any]:
        return (self.payload.get("debtor") or {}).get("address") or {}

    def deadline_met(self) -> bool | None:
        """Rule 9: removed on or before the legal deadline? None while it cannot be said yet."""
        if self.removal_deadline is None or self.removed_at is None:
            return None
        from app.services.core.clock import to_br

        return to_br(self.removed_at).date() <= self.removal_deadline


class NegativationTitle(Base):
    __tablename__ = "negativation_titles"
    __table_args__ = (
        # Rule 7: a title is in at most one live negativation. Maintained in the same transaction
        # as every status change; the final guard against double clicks and concurrent routines.
        Index(
            "ux_negativation_titles_live_title",
            "title_id",
            unique=True,
            sqlite_where=text("live"),
            postgresql_where=text("live"),
        ),
        CheckConstraint("amount_sent > 0", name="amount_sent_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    negativation_id: Mapped[int] = mapped_column(
        ForeignKey("negativations.id", ondelete="CASCADE"), index=True
    )
    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    due_date: Mapped[dt.date]
    amount_sent: Mapped[Decimal]  # rule 1: the OPEN amount at the time of sending
    live: Mapped[bool] = mapped_column(default=True)  # set by Negativation.move_to, from the status

    negativation: Mapped[Negativation] = relationship(back_populates="titles")
    title = relationship("Title")


class NegativationEvent(Base):
    __tablename__ = "negativation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    negativation_id: Mapped[int] = mapped_column(
        ForeignKey("negativations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(80))
    details: Mapped[dict[str, Any] | None] = mapped_column(default=None)

    negativation: Mapped[Negativation] = relationship(back_populates="events")
