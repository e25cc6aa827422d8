"""Outbound updates to the B2B commerce platform and their deliveries: status and limit, as rule 21
(credit restored and reported) requires.

`OutboundUpdate` rows are an outbox: written in the same transaction as the change they report,
then delivered by the `commerce_outbox` job. A newer update of the same kind for the same client
supersedes a pending older one, so the platform never ends with a stale value.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class UpdateKind(enum.StrEnum):
    STATUS = "status"
    LIMIT = "limit"


class UpdateStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"


UPDATE_STATUS_LABELS = {
    UpdateStatus.PENDING: "Pendente",
    UpdateStatus.SENT: "Enviada",
    UpdateStatus.FAILED: "Falhou",
    UpdateStatus.SUPERSEDED: "Substituída",
}
UPDATE_KIND_LABELS = {UpdateKind.STATUS: "Status", UpdateKind.LIMIT: "Limite"}


class OutboundUpdate(Base):
    __tablename__ = "commerce_outbound_updates"
    __table_args__ = (
        CheckConstraint("kind in ('status','limit')", name="kind"),
        CheckConstraint("status in ('pending','sent','failed','superseded')", name="status"),
        Index("ix_commerce_outbound_updates_status_next", "status", "next_attempt_at"),
        Index("ix_commerce_outbound_updates_party_kind_status", "party_id", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(12), default=UpdateStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[dt.datetime | None]

    party = relationship("Party")
    deliveries: Mapped[list[DeliveryLog]] = relationship(
        back_populates="update", order_by="DeliveryLog.id", cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return UPDATE_STATUS_LABELS[UpdateStatus(self.status)]

    @property
    def kind_label(self) -> str:
        return UPDATE_KIND_LABELS[UpdateKind(self.kind)]


class DeliveryLog(Base):
    """One attempt to deliver an update: what the platform answered and how long it took."""

    __tablename__ = "commerce_delivery_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(
        ForeignKey("commerce_outbound_updates.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    url: Mapped[str] = mapped_column(String(300))
    ok: Mapped[bool]
    http_status: Mapped[int | None]
    duration_ms: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))

    update: Mapped[OutboundUpdate] = relationship(back_populates="deliveries")
