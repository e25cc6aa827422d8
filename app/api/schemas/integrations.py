"""Schemas: the bureau integrations (Configurações › Integrações) through the API.

The client_secret is write-only: accepted in a body, never part of an answer (nor the cached access
token: only whether one is cached and until when)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.models import BureauIntegration

from .types import InstantOut, Out, StrictBody, text, text_for

Environment = Literal["producao", "homologacao"]
Provider = Literal["credito_na_medida"]
# Long enough for any credential a bureau issues; stored encrypted (a Text column).
SECRET_MAX = 500


class IntegrationUpdate(StrictBody):
    """PATCH and PUT: fields left out keep their value (client_secret too)."""

    name: text_for(BureauIntegration.name, min_length=1) = None
    provider: Provider = None
    environment: Environment = None
    base_url: text_for(BureauIntegration.base_url) = Field(
        default=None, description="https em produção; vazia em homologação = o simulador.")
    client_id: text_for(BureauIntegration.client_id, min_length=1) = None
    client_secret: text(SECRET_MAX, min_length=1) = Field(
        default=None, description="Só de escrita: guardado cifrado, nunca devolvido.")
    auto_include_remove: bool = Field(
        default=None, description="Incluir/remover automaticamente: só depois de buscar os códigos, com um "
                                  "código PF e um PJ entre eles.")
    restriction_code_pf: text_for(BureauIntegration.restriction_code_pf) | None = None
    restriction_code_pj: text_for(BureauIntegration.restriction_code_pj) | None = None


class IntegrationCreate(IntegrationUpdate):
    name: text_for(BureauIntegration.name, min_length=1) = Field(examples=["Crédito na Medida SP"])
    provider: Provider = "credito_na_medida"
    environment: Environment = "homologacao"
    base_url: text_for(BureauIntegration.base_url) = Field(
        default="", description="https em produção; vazia em homologação = o simulador.",
        examples=["https://api.exemplo.com.br"])
    client_id: text_for(BureauIntegration.client_id, min_length=1) = Field(examples=["cliente-123"])
    client_secret: text(SECRET_MAX, min_length=1) = Field(
        description="Só de escrita: guardado cifrado, nunca devolvido.", examples=["segredo-fornecido-pelo-bureau"])
    auto_include_remove: bool = Field(default=False, description="false até os códigos serem buscados.")


class LastTestOut(Out):
    at: InstantOut
    ok: bool | None
    message: str | None


class BreakerOut(Out):
    """The circuit breaker, when open: no call of this integration leaves until it closes."""

    state: Literal["credentials", "outage"]
    headline: str
    opened_at: InstantOut | None
    next_probe_at: InstantOut | None
    message: str | None


class IntegrationOut(Out):
    id: int
    name: str
    provider: Provider
    environment: Environment
    base_url: str
    client_id: str
    auto_include_remove: bool
    restriction_code_pf: str | None
    restriction_code_pj: str | None
    token_expires_at: InstantOut | None = Field(description="Validade do token em cache (o token nunca é devolvido).")
    codes_fetched_at: InstantOut | None
    last_test: LastTestOut | None
    branch_ids: list[int]
    breaker: BreakerOut | None


class IntegrationList(Out):
    items: list[IntegrationOut]
    next_cursor: None = Field(description="Sempre null: a lista vem inteira.")


class RestrictionCodeOut(Out):
    code: str
    description: str
    kind: Literal["inclusion", "removal"]


class RestrictionCodesByType(Out):
    PF: list[RestrictionCodeOut]
    PJ: list[RestrictionCodeOut]


class RestrictionCodesOut(Out):
    fetched_at: InstantOut | None = Field(description="Quando os códigos foram buscados; null se nunca.")
    codes: RestrictionCodesByType


class ConnectionTestOut(Out):
    """A failed test is an answer (ok false, with the reason), not an error status."""

    ok: bool
    message: str
    error_code: str | None = Field(description="O código bureau_* da falha; null quando ok.")
    token_expires_at: InstantOut | None
    reasons_count: int
    integration: IntegrationOut
