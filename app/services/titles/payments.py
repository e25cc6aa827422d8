"""Payments on titles: full or partial, never more than the open amount.

A payment on a negativated title is recorded on the negativation (rule 10); when it makes the
negativated open amount zero, the negativation goes to `removal_pending` IN THE SAME transaction
(rule 9, Súmula 548 STJ). The caller commits, then calls `negativations.removal.send_removals` with
`PaymentResult.removal_ids` so the removal leaves at once; the removal sweep catches any miss.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.db import lock_for_update
from app.models import Payment, Title
from app.models.titles import COLLECTIBLE_STATUSES
from app.services.core import audit
from app.services.core.clock import today_br
from app.services.core.errors import Conflict, NotFound, ValidationError
from app.services.core.money import brl, parse_money
from app.services.negativations import records as rec
from app.services.titles.lifecycle import parse_date


@dataclass
class PaymentResult:
    payment: Payment
    title: Title
    removal_ids: list[int] = field(default_factory=list)


def register_payment(
    session: Session,
    actor: audit.Actor,
    title_id: int,
    amount: object,
    paid_on: object = None,
    *,
    method: str | None = None,
    reference: str | None = None,
    today: dt.date | None = None,
    date_required: bool = False,
) -> PaymentResult:
    """Record a payment; `paid_on` left out (None or blank) is today in Brasília, for every caller,
    unless `date_required` (the web form, whose date field a person must fill: a field emptied by
    mistake is asked for again, never read as today)."""
    rec.require_writer(actor)
    today = today or today_br()
    date_missing = paid_on is None or (isinstance(paid_on, str) and not paid_on.strip())
    if date_missing and not date_required:
        paid_on, date_missing = today, False
    # Two payments at once never overpay nor lose one another's amount: the title is read locked.
    title = lock_for_update(session, Title, title_id)
    if title is None:
        raise NotFound("Título não encontrado.")
    errors: dict[str, str] = {}
    try:
        value = parse_money(amount)
        if value <= 0:
            raise ValueError
    except ValueError:
        errors["amount"] = "Informe um valor maior que zero, com até duas casas decimais."
        value = None
    day = None
    if date_missing:
        errors["paid_on"] = "Informe a data do crédito (dd/mm/aaaa)."
    else:
        try:
            day = parse_date(paid_on)
        except ValueError:
            errors["paid_on"] = "Data de pagamento inválida (use dd/mm/aaaa)."
    if day is not None and day > today:
        errors["paid_on"] = "A data do pagamento não pode ser futura."
    elif day is not None and day < title.issue_date:
        errors["paid_on"] = (f"A data do pagamento não pode ser anterior à emissão do título "
                             f"({title.issue_date:%d/%m/%Y}).")
    if errors:
        raise ValidationError("Não foi possível registrar o pagamento.", field_errors=errors)
    # A cancelled or renegotiated title is never collected; a paid one has nothing left.
    if title.status not in COLLECTIBLE_STATUSES:
        raise Conflict(f"Título {title.status_label.lower()}: não recebe pagamentos.")
    if value > title.open_amount:
        raise ValidationError(
            f"Pagamento de {brl(value)} maior que o saldo em aberto ({brl(title.open_amount)}): recusado.",
            field_errors={"amount": f"Acima do saldo em aberto: o máximo é {brl(title.open_amount)}."},
            code="overpayment",
        )
    payment = Payment(
        title=title,
        paid_on=day,
        amount=value,
        method=(method or None),
        reference=(reference or None),
        created_by=actor.name,
    )
    session.add(payment)
    title.amount_received += value
    title.open_amount = title.amount - title.amount_received
    title.settle(paid_on=day)  # paid when nothing is left open, otherwise partial
    session.flush()
    audit.record(
        session,
        actor,
        "title.payment",
        "title",
        title.id,
        branch_id=title.branch_id,
        summary=f"Pagamento de {brl(value)} no título {title.number}",
        details={"amount": str(value), "paid_on": day.isoformat(), "open_amount": str(title.open_amount)},
    )
    removal_id = rec.on_title_payment(session, title, value, day, actor)
    from app.services.credit.accounts import (
        on_titles_changed,  # rule 21 (credit restored and reported): the platform hears the new limit
    )

    on_titles_changed(session, title.party_id, actor)
    return PaymentResult(payment, title, [removal_id] if removal_id else [])
