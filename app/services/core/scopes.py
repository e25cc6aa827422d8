"""API token scopes: what a credential may call, independently of who owns it.

A request passes when the token carries the route's scope AND the owner's role allows the route:
the scope narrows a credential (the commerce platform's gets only the commerce scopes), the role
still decides what the person behind it may do. Each `/api/v1` route names its scope in
app/api/scopes.py.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.services.core.errors import ValidationError

# Order here is the order on screen.
SCOPES: dict[str, str] = {
    "crm:read": "CRM: ler cadastros e contatos (dados pessoais)",
    "crm:write": "CRM: criar, alterar e excluir cadastros e contatos",
    "consultations": "Consultas ao bureau: ver relatórios e consultar (cobradas)",
    "negativations": "Negativações: ver, incluir, remover",
    "titles": "Títulos e pagamentos",
    "collections": "Rotina e painel de cobrança",
    "credit": "Crédito: contas, limites, status, exportação e fila de envios à plataforma",
    "settings": "Configurações: filiais, integrações, parâmetros",
    "commerce:inbound": "Plataforma: enviar clientes (XML assinado)",
    "commerce:orders": "Plataforma: autorizar compras e acompanhar reservas",
}

# What the commerce platform's own credential gets: customer registration and checkout. No personal
# data beyond what it sent, no charged bureau consultations.
COMMERCE_SCOPES: tuple[str, ...] = ("commerce:inbound", "commerce:orders")


def default_scopes() -> list[str]:
    """All of them: what a token gets when no scopes are chosen, and what tokens made before scopes
    existed were given. With the role checked on every route, such a token does exactly what its
    user's role allows, as tokens always did (same answers, same error codes)."""
    return list(SCOPES)


def normalize_scopes(values: Iterable[str]) -> list[str]:
    """Known scopes, de-duplicated, in the canonical order; an unknown one is an error, not ignored."""
    wanted = {v.strip() for v in values if v and v.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValidationError("Escopo desconhecido: " + ", ".join(unknown) + ".",
                              field_errors={"scopes": "Escolha entre: " + ", ".join(SCOPES) + "."})
    return [s for s in SCOPES if s in wanted]
