"""Claiming a row for a bureau call and recording what the bureau answered: Outcome, receipts, retry
scheduling, permanent errors, pt-BR messages.

Shared by `inclusion` (first sends, resends), `removal` (removals) and `outbox` (jobs).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.db import transaction
from app.models import BureauIntegration, Negativation
from app.models.negativations import REMOVAL_REASON_LABELS, NegativationStatus, RemovalReason
from app.services.core import audit
from app.services.core.clock import now_utc, to_br
from app.services.core.errors import NotFound
from app.services.negativations import records as rec
from app.services.settings.bureau_breaker import is_credentials_refusal
from app.services.settings.bureau_messages import describe
from integrations.bureau import BureauError, BureauRejected, CircuitOpen

CLAIM = dt.timedelta(minutes=5)  # an in-flight call owns its row this long before the retry job may
RETRY_DELAYS_MIN = (1, 2, 5, 10, 30, 60)
PERMANENT = (BureauRejected,)  # plus any non-retryable BureauError (404, idempotency conflict)
HELD_RETRY = dt.timedelta(minutes=1)  # a call the breaker held back: the outbox looks again each minute


@dataclass(frozen=True)
class Outcome:
    negativation_id: int
    status: str
    ok: bool
    message: str  # plain pt-BR, for the page or the API


def claim(neg: Negativation, force: bool) -> bool:
    """Own the row for CLAIM; the retry job only takes rows whose turn has come."""
    now = now_utc()
    if not force and neg.next_attempt_at is not None and neg.next_attempt_at > now:
        return False
    neg.next_attempt_at = now + CLAIM
    return True


def claim_for_call(s, negativation_id: int, status: NegativationStatus, force: bool, *,
                   permanent_without_integration: bool):
    """Lock the row and claim it for a bureau call: (neg, integration, None), or an Outcome to return
    at once (wrong status, claimed by another caller, or no integration)."""
    neg = rec.lock_negativation(s, negativation_id)
    if neg is None:
        raise NotFound("Negativação não encontrada.")
    if neg.status != status.value or not claim(neg, force):
        return neg, None, outcome(neg)
    integration = s.get(BureauIntegration, neg.integration_id) if neg.integration_id else None
    if integration is None:
        # An inclusion without integration can never be sent; a removal must still happen (retried).
        fail(s, neg, "no_integration", "A filial não tem integração com o bureau.",
             permanent=permanent_without_integration)
        return neg, None, outcome(neg, ok=False)
    return neg, integration, None



def is_permanent(exc: BaseException) -> bool:
    # Refused credentials are a configuration problem, not a verdict on the negativation: it stays
    # pending (never Erro) and is sent once the credentials are fixed.
    if is_credentials_refusal(exc):
        return False
    return isinstance(exc, PERMANENT) or (isinstance(exc, BureauError) and not exc.retryable)


def is_held(exc: BaseException) -> bool:
    """Nothing was processed by the bureau: the breaker refused the call, or the credentials were
    refused. Not an attempt: the row waits for the breaker, with no backoff burnt."""
    return isinstance(exc, CircuitOpen) or is_credentials_refusal(exc)


def record_failure(services, negativation_id: int, exc: Exception, *, removal: bool) -> Outcome:
    with transaction(services.session_factory) as s:
        return record_failure_in(s, rec.lock_negativation(s, negativation_id), exc, removal=removal)


def record_failure_in(s, neg: Negativation, exc: Exception, *, removal: bool) -> Outcome:
    """`record_failure` inside the caller's transaction (the batch records a chunk's answers at once)."""
    permanent = isinstance(exc, BureauError) and is_permanent(exc) and not removal
    if isinstance(exc, BureauError):
        code, message = exc.code or type(exc).__name__, describe(exc)
    else:
        code = type(exc).__name__
        message = (
            "Falha inesperada ao falar com o bureau; a operação será repetida com a mesma chave, "
            "sem risco de envio em dobro."
        )
    fail(s, neg, code, message, permanent=permanent, raw=str(exc), held=is_held(exc))
    return outcome(neg, ok=False)


def fail(s, neg: Negativation, code: str, message: str, *, permanent: bool, raw: str = "", held: bool = False
         ) -> None:
    neg.last_error_code, neg.last_error_message = code[:40], message
    neg.error_kind = "permanent" if permanent else "transient"
    if permanent and neg.status in ("pending", "removal_pending"):
        # A definitive refusal of the inclusion: nothing exists at the bureau; the titles are free again.
        neg.move_to(NegativationStatus.ERROR)
        neg.next_attempt_at = None
        rec.add_event(s, neg, "error", message, "bureau", {"code": code, "raw": raw[:500]})
        audit.record(
            s,
            audit.Actor.system("bureau"),
            "negativation.error",
            "negativation",
            neg.id,
            branch_id=neg.branch_id,
            document=neg.document,
            summary=message,
        )
        return
    if held:
        if neg.status == "removal_pending":
            neg.removal_attempts = max(0, neg.removal_attempts - 1)
        else:
            neg.attempts = max(0, neg.attempts - 1)
        neg.next_attempt_at = now_utc() + HELD_RETRY
        rec.add_event(s, neg, "held", f"Envio suspenso, nada chegou ao bureau: {message}", "bureau",
                      {"code": code, "raw": raw[:500]})
        return
    attempts = neg.removal_attempts if neg.status == "removal_pending" else neg.attempts
    delay = dt.timedelta(minutes=RETRY_DELAYS_MIN[min(max(attempts, 1), len(RETRY_DELAYS_MIN)) - 1])
    neg.next_attempt_at = now_utc() + delay
    rec.add_event(
        s,
        neg,
        "retry_scheduled",
        f"Tentativa {attempts} sem resposta definitiva: {message} "
        f"Nova tentativa às {to_br(neg.next_attempt_at):%H:%M}.",
        "bureau",
        {"code": code, "raw": raw[:500]},
    )


def apply_receipt(s, neg: Negativation, receipt) -> None:
    if neg.protocol is None:
        neg.protocol = receipt.protocol
        neg.notice_until = receipt.notice_until
        neg.sent_at = now_utc()
    neg.last_error_code = neg.last_error_message = neg.error_kind = None
    if neg.status == NegativationStatus.PENDING.value:
        neg.move_to(NegativationStatus.ACTIVE if receipt.status == "active" else NegativationStatus.NOTICE)
        neg.next_attempt_at = None
        until = f" até {receipt.notice_until:%d/%m/%Y}" if receipt.notice_until else ""
        rec.add_event(
            s,
            neg,
            "accepted",
            f"Aceita pelo bureau, protocolo {receipt.protocol}: em notificação{until} (carta ao devedor).",
            "bureau",
            {"attempt": neg.attempts},
        )
        audit.record(
            s,
            audit.Actor.system("bureau"),
            "negativation.sent",
            "negativation",
            neg.id,
            branch_id=neg.branch_id,
            document=neg.document,
            summary=f"Protocolo {receipt.protocol}",
        )
    else:
        rec.add_event(
            s,
            neg,
            "accepted",
            f"Inclusão confirmada pelo bureau, protocolo {receipt.protocol}; segue a baixa já solicitada.",
            "bureau",
        )



def outcome(neg: Negativation, *, ok: bool | None = None, message: str | None = None) -> Outcome:
    status = neg.status
    if message is None:
        message = status_message(neg)
    if ok is None:
        ok = status in ("notice", "active", "removed") or (status == "removal_pending" and not neg.error_kind)
    return Outcome(neg.id, status, ok, message)


def status_message(neg: Negativation) -> str:
    n = f"Negativação nº {neg.id}"
    if neg.status == "notice":
        until = f" até {neg.notice_until:%d/%m/%Y}" if neg.notice_until else ""
        return f"{n} enviada com sucesso: em notificação{until} (protocolo {neg.protocol})."
    if neg.status == "active":
        return f"{n} ativa no bureau (protocolo {neg.protocol})."
    if neg.status == "error":
        return f"Falha: o bureau recusou a {n.lower()}. {neg.last_error_message or ''}".strip()
    if neg.status == "pending":
        return (
            f"{n} pendente: o bureau não confirmou ainda. Será reenviada automaticamente com a mesma "
            "chave, sem risco de envio em dobro."
            + (f" ({neg.last_error_message})" if neg.last_error_message else "")
        )
    if neg.status == "removal_pending":
        label = REMOVAL_REASON_LABELS[RemovalReason(neg.removal_reason)] if neg.removal_reason else ""
        return f"Baixa da {n.lower()} ({label}) solicitada; será confirmada automaticamente." + (
            f" Última tentativa: {neg.last_error_message}" if neg.last_error_message else ""
        )
    return f"{n} baixada com sucesso no bureau."
