"""What a removal by hand means for the titles of the negativation (rules 4, 9, 10 and 11).

- "Acordo / renegociação": the titles are renegotiated (rule 10): never collected again.
- "Pagamento": only when every title is fully paid (rule 9); otherwise refused, naming the open
  amounts, and nothing is removed.
- "Correção de erro" and "Manual": the titles get a "não negativar" hold (rule 11: the debt was
  wrong or a person decided); neither the routine nor a person without confirmation sends them
  again until a person clears the hold (`clear_hold`), with who, when and why in the history.
Every removal by hand also leaves the hold's day and reason on the titles, so the routine's
simulation can say why a title is skipped and since when.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import lock_for_update
from app.models import NegativationTitle, Title
from app.models.negativations import REMOVAL_REASON_LABELS, Negativation, RemovalReason
from app.models.titles import COLLECTIBLE_STATUSES
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import NotFound, ValidationError
from app.services.core.money import brl
from app.services.negativations import removal
from app.services.negativations.outcomes import Outcome
from app.services.negativations.records import require_writer
from app.services.titles.lifecycle import append_note, mark_renegotiated

HOLDING_REASONS = (RemovalReason.ERROR_CORRECTION.value, RemovalReason.MANUAL.value)
MIN_CLEAR_REASON = 5


def remove_by_hand(services, actor: audit.Actor, ids: Iterable[int], reason: str, *,
                   note: str = "") -> list[Outcome]:
    """Remove the negativations by hand and decide their titles' fate in the same transaction."""

    def decide(session: Session, neg: Negativation) -> None:
        titles = _titles_of(session, neg)
        if reason == RemovalReason.PAYMENT.value:
            unpaid = [t for t in titles if t.status in COLLECTIBLE_STATUSES and t.open_amount > 0]
            if unpaid:
                owed = "; ".join(f"título {t.number}: {brl(t.open_amount)} em aberto" for t in unpaid)
                raise ValidationError(
                    f"Baixa por pagamento recusada na negativação nº {neg.id}: {owed}. Registre o pagamento "
                    "(a baixa sai sozinha quando o saldo zera) ou escolha outro motivo.",
                    field_errors={"reason": "Há títulos com saldo em aberto."}, code="titles_not_paid")
            return
        label = REMOVAL_REASON_LABELS[RemovalReason(reason)]
        for title in titles:
            if reason == RemovalReason.AGREEMENT.value and title.status in COLLECTIBLE_STATUSES:
                mark_renegotiated(session, actor, title, f"acordo na baixa da negativação nº {neg.id}")
            title.hold_at, title.hold_reason, title.hold_negativation_id = now_utc(), reason, neg.id
            title.notes = append_note(title.notes, f"Não negativar: negativação nº {neg.id} baixada à mão "
                                                    f"({label}) por {actor.name}" + (f": {note}" if note else ""))
            audit.record(session, actor, "title.hold", "title", title.id, branch_id=title.branch_id,
                         summary=f"Título {title.number}: não negativar (baixa à mão, {label})",
                         details={"negativation_id": neg.id, "reason": reason, "note": note})

    return removal.remove_negativations(services, actor, ids, reason, note=note, decide_titles=decide)


def _titles_of(session: Session, neg: Negativation) -> list[Title]:
    ids = session.scalars(select(NegativationTitle.title_id).where(NegativationTitle.negativation_id == neg.id)
                          .order_by(NegativationTitle.title_id)).all()
    return [lock_for_update(session, Title, title_id) for title_id in ids]


def clear_hold(session: Session, actor: audit.Actor, title_id: int, reason: str) -> Title:
    """A person allows the title to be negativated again; who, when and why go to the history."""
    require_writer(actor)
    title = lock_for_update(session, Title, title_id)
    if title is None:
        raise NotFound("Título não encontrado.")
    text = " ".join((reason or "").split())
    if len(text) < MIN_CLEAR_REASON:
        raise ValidationError("Explique por que o título pode ser negativado de novo.",
                              field_errors={"reason": "Informe o motivo (pelo menos 5 caracteres)."})
    if title.hold_at is None:
        return title
    previous = {"hold_at": title.hold_at.isoformat(), "hold_reason": title.hold_reason,
                "negativation_id": title.hold_negativation_id}
    title.hold_at = title.hold_reason = title.hold_negativation_id = None
    title.notes = append_note(title.notes, f"Liberado para negativação por {actor.name}: {text}")
    audit.record(session, actor, "title.hold_cleared", "title", title.id, branch_id=title.branch_id,
                 summary=f"Título {title.number} liberado para negativação", details={"reason": text, **previous})
    return title
