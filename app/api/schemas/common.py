"""Shapes shared by every operation: the error body and the pagination parameters."""

from __future__ import annotations

from pydantic import Field

from .types import Cursor, Out, QueryModel, q_int


class ErrorDetail(Out):
    code: str = Field(description="Código estável, em inglês, para programas (ex.: validation_error).")
    message: str = Field(description="Mensagem em português para pessoas.")
    fields: dict[str, str] | None = Field(
        default=None, description="Erro por campo (`campo` ou `objeto.campo`), quando a entrada foi recusada.")
    consultation_id: int | None = Field(default=None, description="A consulta registrada, quando o bureau falhou.")


class ErrorBody(Out):
    """Every answer that is not a success: `{"error": {"code", "message", "fields"?}}`."""

    error: ErrorDetail


class PageQuery(QueryModel):
    """The one pagination convention: `?limit=` and the `next_cursor` of the previous page."""

    cursor: Cursor = None
    limit: q_int(1, 200) = Field(default=50, description="Itens por página (1 a 200).")

