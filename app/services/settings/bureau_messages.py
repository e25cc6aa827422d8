"""Turning the adapter's typed errors into plain pt-BR for the people who read them."""

from __future__ import annotations

from integrations.bureau import (
    AuthenticationError,
    BureauError,
    BureauRejected,
    BureauUnavailable,
    IdempotencyConflict,
    MalformedResponse,
    NotFound,
    RateLimited,
)


def describe(exc: BureauError, operation: str = "call") -> str:
    """operation: "consultation" (charged, no idempotency key), "negativation", "removal" or "call"."""
    detail = f" Mensagem do bureau: {exc.message}" if getattr(exc, "message", None) else ""
    if isinstance(exc, AuthenticationError):
        return "O bureau recusou as credenciais (client_id/client_secret). Confira-as na integração." + detail
    if isinstance(exc, RateLimited):
        return "O bureau limitou o número de requisições. Tente novamente em instantes."
    if isinstance(exc, BureauUnavailable):
        if getattr(exc, "outcome_unknown", False) and operation == "consultation":
            return ("O bureau não respondeu a tempo e a consulta pode ter sido registrada (e cobrada). "
                    "Verifique o relatório antes de consultar de novo.")
        if getattr(exc, "outcome_unknown", False) and operation in {"negativation", "removal"}:
            return ("O bureau não respondeu a tempo. A operação será confirmada automaticamente "
                    "com a mesma chave, sem risco de envio em dobro.")
        return "O bureau está indisponível no momento (sem resposta ou erro do servidor). Tente novamente."
    if isinstance(exc, MalformedResponse):
        return "O bureau respondeu em um formato inesperado. A resposta foi registrada para análise."
    if isinstance(exc, IdempotencyConflict):
        return "O bureau recusou a repetição: a chave de idempotência já foi usada com outros dados."
    if isinstance(exc, NotFound):
        return "O bureau não encontrou o registro (protocolo desconhecido)." + detail
    if isinstance(exc, BureauRejected):
        return "O bureau recusou a solicitação." + detail
    return "Falha na comunicação com o bureau." + detail
