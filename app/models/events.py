"""Outbound events to the ISP's own systems: endpoints, the delivery outbox, the log.

`EventDelivery` rows are an outbox: written in the same transaction as the change they report
(`app.services.events.emit`), one per subscribed endpoint, then delivered by the `events_delivery`
job with retries and backoff. The payload is stored as it will be sent, already reduced for that
endpoint (LGPD: a masked document unless the endpoint may see full documents). A row answered
with 2xx is `delivered` and never sent again; the unique (endpoint, event id) pair keeps one row
per event and endpoint.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin, utcnow

DELIVERY_STATUS_LABELS = {"pending": "Pendente", "delivered": "Entregue", "failed": "Falhou"}


class EventEndpoint(Base, TimestampMixin):
    __tablename__ = "event_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500))
    secret_encrypted: Mapped[str] = mapped_column(Text)  # HMAC key (Fernet at rest), shown once
    event_types: Mapped[list[Any]] = mapped_column(default=list)
    full_documents: Mapped[bool] = mapped_column(default=False)  # else CPF/CNPJ go masked
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(80))

    branch = relationship("Branch")


class EventDelivery(Base):
    __tablename__ = "event_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        CheckConstraint("status in ('pending','delivered','failed')", name="status"),
        # The delivery job's scan: due pending rows.
        Index("ix_event_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_event_deliveries_endpoint_id_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40))  # evt_<32 hex>: the same for every endpoint
    event_type: Mapped[str] = mapped_column(String(60))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("event_endpoints.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # the change it reports
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]
    last_http_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))

    endpoint: Mapped[EventEndpoint] = relationship()

    @property
    def status_label(self) -> str:
        return DELIVERY_STATUS_LABELS.get(self.status, self.status)


class EventDeliveryAttempt(Base):
    """One HTTP attempt: what the endpoint answered and how long it took (the delivery log)."""

    __tablename__ = "event_delivery_attempts"
    __table_args__ = (Index("ix_event_delivery_attempts_endpoint_id_id", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("event_endpoints.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("event_deliveries.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool]
    http_status: Mapped[int | None]
    duration_ms: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))

    delivery: Mapped[EventDelivery] = relationship()
