"""Schemas: outbound event types, endpoints and their delivery log (the secret is never answered)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.services.events.catalog import EVENT_TYPES, TEST_EVENT

from .types import Count, Cursor, InstantOut, NextCursor, Out, QueryModel, q_int

EventType = Literal[tuple(EVENT_TYPES)]
DeliveryStatus = Literal["pending", "delivered", "failed"]


class EventTypeOut(Out):
    type: EventType
    label: str


class EventTypeList(Out):
    items: list[EventTypeOut]
    next_cursor: None = Field(description="Sempre null: o catálogo vem inteiro.")


class EventEndpointOut(Out):
    """A destination of events. Its HMAC secret is write-only: shown once, when set, never here."""

    id: int
    branch_id: int
    name: str
    url: str
    event_types: list[EventType]
    full_documents: bool = Field(description="true: CPF/CNPJ completos nos eventos; false: mascarados.")
    active: bool


class EventEndpointList(Out):
    items: list[EventEndpointOut]
    next_cursor: None = Field(description="Sempre null: a lista vem inteira.")


class DeliveriesQuery(QueryModel):
    status: DeliveryStatus = None
    cursor: Cursor = None
    limit: q_int(1, 200) = Field(default=50, description="Itens por página (1 a 200).")


class DeliveryAttemptOut(Out):
    attempt: int
    at: InstantOut
    ok: bool
    http_status: int | None
    duration_ms: int
    error: str | None


class DeliveryOut(Out):
    id: int
    event_id: str
    event_type: Literal[(*EVENT_TYPES, TEST_EVENT)]
    endpoint_id: int
    status: DeliveryStatus
    attempts: Count
    occurred_at: InstantOut
    next_attempt_at: InstantOut
    delivered_at: InstantOut | None
    last_http_status: int | None
    last_error: str | None
    log: list[DeliveryAttemptOut] = Field(description="As tentativas de envio, da primeira à última.")


class DeliveryList(Out):
    items: list[DeliveryOut] = Field(description="Entregas do destino, da mais recente à mais antiga.")
    next_cursor: NextCursor


class EndpointTestOut(Out):
    outcome: Literal["delivered", "retrying", "failed", "skipped"] = Field(
        description="delivered: o destino respondeu 2xx; retrying/failed: não respondeu 2xx (veja delivery).")
    delivery: DeliveryOut
