"""Removal ("baixa") of a negativation: by hand, and the bureau call of any removal (rules 9-12).

A removal is first committed as `removal_pending` with its own Idempotency-Key
(`records.request_removal`, in the transaction of the payment, cancellation or renegotiation that
caused it, or of the request by hand), then sent with no transaction open. A failed send keeps the
row `removal_pending` and the outbox job resends it with the SAME key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from app.db import transaction
from app.models.negativations import MANUAL_REMOVAL_REASONS, Negativation, NegativationStatus
from app.services.core import audit
from app.services.core.clock import to_br
from app.services.core.errors import NotFound, ValidationError
from app.services.core.ids import ids_or_error
from app.services.negativations import records as rec
from app.services.negativations.outcomes import (
    Outcome,
    apply_receipt,
    claim_for_call,
    is_permanent,
    outcome,
    record_failure,
)
from app.services.negativations.payload import request_from_payload
from integrations.bureau import BureauError


def remove_negativations(
    services, actor: audit.Actor, ids: Iterable[int], reason: str, *, note: str = "",
    decide_titles: Callable[[Session, Negativation], None] | None = None,
) -> list[Outcome]:
    """Manual removal of one or several entries (rules 11 and 12: no removal code for this bureau).

    `decide_titles(session, negativation)` runs in the same transaction for each entry that will be
    removed, before it is: what a removal by hand means for its titles is decided by the titles
    area (`app.services.titles.manual_removal`), and a refusal there removes nothing."""
    rec.require_writer(actor)
    if reason not in MANUAL_REMOVAL_REASONS:
        raise ValidationError("Escolha o motivo da baixa.", field_errors={"reason": "Escolha o motivo da baixa."})
    ids = ids_or_error(ids, field="ids", message="Seleção de negativações inválida.")
    if not ids:
        message = "Selecione ao menos uma negativação."
        raise ValidationError(message, field_errors={"ids": message})
    skipped: list[Outcome] = []
    with transaction(services.session_factory) as s:
        for neg_id in ids:
            neg = rec.lock_negativation(s, neg_id)
            if neg is None:
                raise NotFound(f"Negativação nº {neg_id} não encontrada.")
            if decide_titles is not None and neg.status in rec.REMOVABLE_STATUSES:
                decide_titles(s, neg)
            if not rec.request_removal(s, neg, reason, actor, note=note):
                skipped.append(
                    outcome(
                        neg,
                        ok=False,
                        message=f"Negativação nº {neg.id} não pode ser baixada no status {neg.status_label}.",
                    )
                )
    done = {o.negativation_id for o in skipped}
    return skipped + send_removals(services, [i for i in ids if i not in done])


def send_removals(services, ids: Iterable[int]) -> list[Outcome]:
    """Send the removals of rows already committed as `removal_pending` (right after a payment)."""
    return [send_removal(services, i, force=True) for i in ids]


def send_removal(services, negativation_id: int, *, force: bool = False) -> Outcome:
    """Call the bureau for a `removal_pending` row, always with its stored removal key."""
    with transaction(services.session_factory) as s:
        neg, integration, done = claim_for_call(s, negativation_id, NegativationStatus.REMOVAL_PENDING, force,
                                                permanent_without_integration=False)
        if done is not None:
            return done
        neg.removal_attempts += 1
        protocol, key = neg.protocol, neg.removal_idempotency_key
        reason = rec.BUREAU_REMOVAL_REASON[neg.removal_reason]
        request, inclusion_key = request_from_payload(neg.payload), neg.idempotency_key
        bureau = services.bureau_for(integration)
    try:
        if protocol is None:
            # The inclusion was never confirmed: replay it with its SAME key to learn the protocol
            # (the bureau answers the first receipt if it had it), then remove it.
            receipt = bureau.negativate(request, inclusion_key)
            with transaction(services.session_factory) as s:
                apply_receipt(s, rec.lock_negativation(s, negativation_id), receipt)
            protocol = receipt.protocol
        removal = bureau.remove(protocol, reason, key)
    except Exception as exc:  # noqa: BLE001 - recorded; retried by the outbox
        if protocol is None and isinstance(exc, BureauError) and is_permanent(exc):
            return record_failure(services, negativation_id, exc, removal=False)  # nothing at the bureau
        return record_failure(services, negativation_id, exc, removal=True)
    with transaction(services.session_factory) as s:
        neg = rec.lock_negativation(s, negativation_id)
        if neg.status != NegativationStatus.REMOVAL_PENDING.value:
            return outcome(neg)
        neg.move_to(NegativationStatus.REMOVED)
        neg.removed_at, neg.next_attempt_at = removal.removed_at, None
        neg.last_error_code = neg.last_error_message = neg.error_kind = None
        met = neg.deadline_met()
        deadline = (
            ""
            if met is None
            else (
                f" Prazo legal {neg.removal_deadline:%d/%m/%Y} " + ("cumprido." if met else "NÃO cumprido.")
            )
        )
        rec.add_event(
            s,
            neg,
            "removed",
            f"Baixa confirmada pelo bureau em {to_br(removal.removed_at):%d/%m/%Y %H:%M}.{deadline}",
            "bureau",
        )
        audit.record(
            s,
            audit.Actor.system("bureau"),
            "negativation.removed",
            "negativation",
            neg.id,
            branch_id=neg.branch_id,
            document=neg.document,
            summary=f"Baixa do protocolo {protocol}",
        )
        return outcome(neg)


