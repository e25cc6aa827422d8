"""Schemas: customers received from the commerce platform (XML) and the outbound update queue."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .types import Cursor, InstantOut, NextCursor, Out, QId, QueryModel, q_int, text

XML_BODY = {"application/xml": {"schema": {"type": "string", "description": "Lote <clientes> (docs/commerce-xml.md)."}},
            "text/xml": {"schema": {"type": "string"}}}


class CustomersQuery(QueryModel):
    branch: QId = Field(default=None, description="Id da filial (ou use branch_cnpj).")
    branch_cnpj: text(18) = Field(default=None, description="CNPJ da filial, com ou sem pontuação.")


class ImportItemOut(Out):
    index: int
    external_id: str | None = None
    result: Literal["created", "updated", "refused"]
    party_id: int | None = None
    status: str | None = None
    code: str | None = None
    reason: str | None = None


class ImportOut(Out):
    created: int
    updated: int
    refused: int
    items: list[ImportItemOut]


class UpdateOut(Out):
    id: int
    party_id: int
    kind: str
    status: str
    attempts: int
    next_attempt_at: InstantOut
    last_error: str | None
    sent_at: InstantOut | None
    payload: dict[str, Any]


class UpdatesQuery(QueryModel):
    status: Literal["pending", "sent", "failed", "superseded"] = None
    party_id: QId = None
    cursor: Cursor = None
    limit: q_int(1, 200) = 200


class UpdateList(Out):
    items: list[UpdateOut]
    next_cursor: NextCursor


