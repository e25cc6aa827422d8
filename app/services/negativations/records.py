"""In-session negativation bookkeeping: events, removal requests, payment hooks.

Everything here joins the caller's transaction (no bureau call, no commit), so that a payment,
a cancellation or a renegotiation moves the negativation to `removal_pending` in the SAME
transaction that changes the title (domain rules 9-11). `removal.send_removals` sends the
removal right after the caller commits; the scheduler's sweep and outbox retry catch any miss.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import is_postgres
from app.models import Negativation, NegativationEvent, NegativationTitle, Title
from app.models.negativations import REMOVABLE_STATUSES, REMOVAL_REASON_LABELS, NegativationStatus, RemovalReason
from app.services.core import audit
from app.services.core.business_days import removal_deadline
from app.services.core.clock import now_utc
from app.services.core.errors import PermissionDenied
from app.services.core.money import brl
from app.services.core.permissions import Capability, allows

# Removal reasons credit-desk keeps -> the bureau's neutral reasons (integrations.bureau.REMOVAL_REASONS).
# A correction of an error (rule 11) has no reason of its own at this bureau: it is a manual removal.
BUREAU_REMOVAL_REASON = {
    "payment": "payment",
    "agreement": "agreement",
    "error_correction": "manual",
    "manual": "manual",
    "expired": "expired",
}


def require_writer(actor: audit.Actor) -> None:
    if not allows(actor.role, Capability.NEGATIVATE):
        raise PermissionDenied(
            "Somente os perfis financeiro e administrador podem negativar, remover "
            "negativações ou registrar pagamentos."
        )


def new_key() -> str:
    return str(uuid.uuid4())


def add_event(
    session: Session, neg: Negativation, kind: str, message: str, actor: str, details: dict | None = None
) -> NegativationEvent:
    event = NegativationEvent(
        negativation=neg, kind=kind, message=message, actor=actor, details=details, at=now_utc()
    )
    session.add(event)
    return event


def lock_negativation(session: Session, negativation_id: int) -> Negativation | None:
    stmt = select(Negativation).where(Negativation.id == negativation_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def live_negativation_of(session: Session, title_id: int, *, for_update: bool = True) -> Negativation | None:
    """The title's live negativation. Locked by default: callers move it next (removal, payment);
    a page that only shows it passes for_update=False and never waits on, nor blocks, a payment."""
    stmt = (
        select(Negativation)
        .join(NegativationTitle, NegativationTitle.negativation_id == Negativation.id)
        .where(NegativationTitle.title_id == title_id, NegativationTitle.live)
    )
    if for_update and is_postgres(session):
        stmt = stmt.with_for_update(of=Negativation)
    return session.scalar(stmt)


def request_removal(
    session: Session,
    neg: Negativation,
    reason: str,
    actor: audit.Actor,
    *,
    paid_on: dt.date | None = None,
    note: str = "",
) -> bool:
    """Move a live negativation to `removal_pending` with its own Idempotency-Key (outbox).

    Returns False (and changes nothing) when it is not in a removable state. A `pending` entry
    (inclusion not yet confirmed) also goes to `removal_pending`: the outbox first replays the
    inclusion with its SAME key to learn the protocol, then removes it (`removal.send_removal`).
    """
    RemovalReason(reason)  # refuses unknown reasons
    if neg.status not in REMOVABLE_STATUSES:
        return False
    now = now_utc()
    neg.move_to(NegativationStatus.REMOVAL_PENDING)
    neg.removal_reason = reason
    neg.removal_requested_at = now
    neg.removal_idempotency_key = new_key()
    neg.removal_attempts = 0
    neg.next_attempt_at = now
    neg.error_kind = None
    if paid_on is not None:
        # Rule 9 (Súmula 548 STJ): 5 business days from the first business day after payment.
        neg.paid_on = paid_on
        neg.removal_deadline = removal_deadline(paid_on, neg.branch.state if neg.branch else None)
    label = REMOVAL_REASON_LABELS[RemovalReason(reason)]
    message = f"Baixa solicitada ({label})" + (f": {note}" if note else "")
    if neg.removal_deadline:
        message += f". Prazo legal: {neg.removal_deadline:%d/%m/%Y}"
    add_event(session, neg, "removal_requested", message, actor.name, {"reason": reason})
    audit.record(
        session,
        actor,
        "negativation.remove_request",
        "negativation",
        neg.id,
        summary=message,
        branch_id=neg.branch_id,
        document=neg.document,
        details={"reason": reason},
    )
    return True


def negativated_open_amount(neg: Negativation) -> Decimal:
    return sum((nt.title.open_amount for nt in neg.titles), Decimal("0.00"))


def on_title_payment(
    session: Session, title: Title, amount: Decimal, paid_on: dt.date, actor: audit.Actor
) -> int | None:
    """Rules 9 and 10, called in the payment's transaction. Returns the negativation id when the
    payment made the negativated open amount zero (now `removal_pending`), else None."""
    neg = live_negativation_of(session, title.id)
    if neg is None:
        return None
    neg.amount_received = (neg.amount_received or Decimal("0")) + amount
    remaining = negativated_open_amount(neg)
    add_event(
        session,
        neg,
        "payment",
        f"Pagamento de {brl(amount)} no título {title.number} em {paid_on:%d/%m/%Y}; "
        f"saldo negativado {brl(remaining)}",
        actor.name,
        {"title_id": title.id, "amount": str(amount), "remaining": str(remaining)},
    )
    if remaining > 0:
        # Rule 10: partial payment keeps the entry (this bureau has no amount update call).
        return None
    last_paid = max((nt.title.paid_on for nt in neg.titles if nt.title.paid_on), default=paid_on)
    return neg.id if request_removal(session, neg, "payment", actor, paid_on=last_paid) else None


def on_title_closed(session: Session, title: Title, reason: str, actor: audit.Actor, note: str) -> int | None:
    """A negativated title was renegotiated (rule 10: agreement) or cancelled (rule 11: error
    correction): the entry is removed at once. Returns the negativation id moved to removal."""
    neg = live_negativation_of(session, title.id)
    if neg is None:
        return None
    return neg.id if request_removal(session, neg, reason, actor, note=note) else None


def note_dispute(session: Session, title: Title, actor: audit.Actor) -> None:
    """A negativated title was marked disputed: say so on the entry; a person decides (rule 4)."""
    neg = live_negativation_of(session, title.id)
    if neg is not None:
        add_event(
            session,
            neg,
            "dispute",
            f"Título {title.number} marcado em disputa: {title.dispute_reason or ''}. "
            "Avalie a baixa por correção de erro (CDC art. 43 §3).",
            actor.name,
        )
