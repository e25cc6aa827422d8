"""Turning the adapter's typed errors into plain pt-BR for the people who read them."""

from __future__ import annotations

from app.services.core.errors import BureauCallFailed
from integrations.bureau import (
    AuthenticationError,
    BureauError,
    BureauRejected,
    BureauUnavailable,
    CircuitOpen,
    IdempotencyConflict,
    MalformedResponse,
    NotFound,
    RateLimited,
)


def describe(exc: BureauError, operation: str = "call") -> str:
    """operation: "consultation" (charged, no idempotency key), "negativation", "removal" or "call"."""
    detail = f" Mensagem do bureau: {exc.message}" if getattr(exc, "message", None) else ""
    if isinstance(exc, CircuitOpen):
        return exc.message  # the breaker's own pt-BR headline and advice; the call never left
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


def failure_status(exc: BaseException, operation: str = "call") -> tuple[int, str]:
    """The API's HTTP status and stable code for a failed bureau call (never 502: that reads as a
    proxy error). 503 + bureau_unavailable / bureau_rate_limited: nothing was done, try later.
    424 + bureau_*: the bureau refused, answered garbage, or may have done (and charged) the work."""
    if isinstance(exc, CircuitOpen):
        if exc.reason == "credentials":
            return 424, "bureau_credentials_refused"
        return 503, "bureau_unavailable"
    if isinstance(exc, AuthenticationError):
        return 424, "bureau_credentials_refused"
    if isinstance(exc, RateLimited):
        return 503, "bureau_rate_limited"
    if isinstance(exc, BureauUnavailable):
        if getattr(exc, "outcome_unknown", False) and operation == "consultation":
            return 424, "bureau_outcome_unknown"
        return 503, "bureau_unavailable"
    if isinstance(exc, MalformedResponse):
        return 424, "bureau_malformed_response"
    if isinstance(exc, IdempotencyConflict):
        return 424, "bureau_idempotency_conflict"
    if isinstance(exc, NotFound):
        return 424, "bureau_not_found"
    if isinstance(exc, BureauRejected):
        return 424, "bureau_rejected"
    return 424, "bureau_error"


def call_failed(prefix: str, exc: BureauError, operation: str = "call", **details) -> BureauCallFailed:
    """A BureauCallFailed for `exc`: pt-BR message, HTTP status and stable code in one place."""
    status, code = failure_status(exc, operation)
    message = (prefix + " " if prefix else "") + describe(exc, operation)
    return BureauCallFailed(message, code=code, http_status=status, details=details)
