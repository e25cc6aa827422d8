"""The titles of an invoiced purchase: issuing them on a term, decreasing and cancelling them (rule 22).

Titles issued here are ordinary titles (origin "credit_purchase", `purchase_id` = the
reservation): they age, get paid and can be negativated like any other. A title in a live
negativation is never changed here: its removal comes first (rules 4 and 10).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CreditRelease, NegativationTitle, Payment, Reservation, Title
from app.models.titles import COLLECTIBLE_STATUSES, TitleStatus
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import Conflict
from app.services.core.money import brl
from app.services.credit.installments import schedule

CREDIT_ORIGIN = "credit_purchase"


def purchase_titles(session: Session, reservation_id: int) -> list[Title]:
    return list(session.scalars(select(Title).where(Title.purchase_id == reservation_id,
                                                    Title.origin == CREDIT_ORIGIN).order_by(Title.id)))


def issue_titles(session: Session, reservation: Reservation, amount: Decimal, term: str, invoice_date: dt.date
                 ) -> list[Title]:
    """One title per installment, due `days` after `invoice_date`, amounts summing exactly to `amount`."""
    plan = schedule(amount, term, invoice_date)
    already = session.scalar(select(func.count()).select_from(Title).where(
        Title.purchase_id == reservation.id, Title.origin == CREDIT_ORIGIN)) or 0
    numbers = [f"{reservation.order_ref}/{already + i}" for i in range(1, len(plan) + 1)]
    clash = session.scalar(select(Title.number).where(Title.branch_id == reservation.branch_id,
                                                      Title.number.in_(numbers)).limit(1))
    if clash:
        raise Conflict(f"Já existe um título com o número {clash} nesta filial.", code="duplicate_title_number")
    kind = "complemento, " if already else ""
    titles = []
    for i, ((due, value), number) in enumerate(zip(plan, numbers, strict=True), start=1):
        title = Title(branch_id=reservation.branch_id, party_id=reservation.party_id, number=number,
                      description=f"Pedido {reservation.order_ref} — {kind}parcela {i}/{len(plan)} (prazo {term})",
                      issue_date=invoice_date, due_date=due, amount=value, amount_received=Decimal("0.00"),
                      open_amount=value, origin=CREDIT_ORIGIN, purchase_id=reservation.id)
        title.move_to(TitleStatus.OPEN)
        session.add(title)
        titles.append(title)
    session.flush()
    return titles


def _refuse_negativated(session: Session, titles: list[Title]) -> None:
    ids = [t.id for t in titles]
    if not ids:
        return
    number = session.scalar(select(Title.number).join(NegativationTitle, NegativationTitle.title_id == Title.id)
                            .where(NegativationTitle.title_id.in_(ids), NegativationTitle.live).limit(1))
    if number:
        raise Conflict(f"O título {number} está negativado: faça a baixa da negativação antes de alterá-lo.",
                       code="title_negativated")


def _open_titles(session: Session, reservation: Reservation) -> list[Title]:
    return list(session.scalars(
        select(Title).where(Title.purchase_id == reservation.id, Title.origin == CREDIT_ORIGIN,
                            Title.status.in_(COLLECTIBLE_STATUSES), Title.open_amount > 0)
        .order_by(Title.due_date.desc(), Title.id.desc())))


def decrease_titles(session: Session, actor: audit.Actor, reservation: Reservation, amount: Decimal,
                    today: dt.date) -> list[Title]:
    """Take `amount` off the open titles, latest due date first. A title left with nothing open is
    closed: paid when it had received money, otherwise cancelled with its credit released."""
    titles = _open_titles(session, reservation)
    total_open = sum((t.open_amount for t in titles), Decimal("0.00"))
    if amount > total_open:
        raise Conflict(f"A redução de {brl(amount)} é maior que o valor em aberto dos títulos do pedido "
                       f"({brl(total_open)}).", code="decrease_exceeds_open")
    remaining, touched = amount, []
    for title in titles:
        if remaining <= 0:
            break
        cut = min(remaining, title.open_amount)
        touched.append((title, cut))
        remaining -= cut
    _refuse_negativated(session, [t for t, _ in touched])
    now = now_utc()
    for title, cut in touched:
        if cut < title.open_amount or title.amount_received > 0:
            title.amount -= cut
            title.open_amount -= cut
            if title.open_amount == 0:  # it had received money: paid on the day of its last payment
                title.move_to(TitleStatus.PAID, paid_on=session.scalar(
                    select(func.max(Payment.paid_on)).where(Payment.title_id == title.id)) or today)
            else:
                title.settle()  # still open: partial or open, as its amounts say
        else:
            title.move_to(TitleStatus.CANCELLED, at=now)
            title.open_amount = Decimal("0.00")
            # A decrease is not a cancellation of the purchase: its credit always comes back.
            session.add(CreditRelease(title_id=title.id, party_id=title.party_id, amount=title.amount, at=now,
                                      actor=actor.name[:80], reason=f"Redução do pedido {reservation.order_ref}"))
        title.notes = ((title.notes + "\n") if title.notes else "") + (
            f"{today:%d/%m/%Y}: pedido reduzido, {brl(cut)} abatidos deste título.")
    session.flush()
    return [t for t, _ in touched]


def cancel_open_titles(session: Session, reservation: Reservation, now: dt.datetime) -> list[Title]:
    """Cancel what is still open of the purchase's titles; paid amounts stay paid."""
    titles = _open_titles(session, reservation)
    _refuse_negativated(session, titles)
    for title in titles:
        title.move_to(TitleStatus.CANCELLED, at=now)
        title.open_amount = Decimal("0.00")
    session.flush()
    return titles
