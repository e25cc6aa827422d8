"""Purchase authorisation, reservation (pre-authorisation), settlement into titles and cancellation
(rules 19 (customer status), 20 (invoiced boleto and available credit) and 22 (installment terms,
reservation, settlement)).

Every operation that changes used credit locks the client's credit account first
(`credit_accounts.lock_account`), so two authorisations against one limit can never together
exceed it beyond its tolerance. On SQLite call `authorise` at the start of a transaction: its
first statement takes the database write lock.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Branch, Party, Reservation, Title
from app.models.credit import ReservationStatus
from app.models.parties import CustomerStatus, Stage
from app.services.core import audit
from app.services.core.business_days import add_business_days
from app.services.core.clock import now_utc, start_of_day_br, to_br, today_br
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.errors import Conflict, NotFound, ValidationError
from app.services.core.ids import as_id
from app.services.core.like import LIKE_ESCAPE, contains_pattern
from app.services.core.money import brl, parse_money
from app.services.credit import accounts as credit_accounts
from app.services.credit.policy import policy_for
from app.services.credit.purchase_titles import (
    cancel_open_titles,
    decrease_titles,
    issue_titles,
)

METHODS = {
    "pix": "PIX",
    "cartao": "Cartão de crédito",
    "boleto_antecipado": "Boleto antecipado",
    "boleto_faturado": "Boleto faturado",
}
UPFRONT_METHODS = ("pix", "cartao", "boleto_antecipado")  # paid up front: all a PEN customer may use (rule 19)
INVOICED = "boleto_faturado"
MAX_AMOUNT = Decimal("999999999999.99")

# Stable reason codes (API) and their pt-BR messages.
RPV_MESSAGE = "Seu cadastro não foi aprovado para este sortimento"  # rule 19 (customer status): the platform's words
MESSAGES = {
    "approved": "Compra aprovada.",
    "reserved": "Compra aprovada: o valor foi reservado no limite de crédito até o faturamento.",
    "customer_not_found": "Cliente não cadastrado nesta filial.",
    "customer_rejected": RPV_MESSAGE,
    "pending_purchases_disabled": ("Cadastro pré-aprovado (PEN): nesta filial as compras só são liberadas após "
                                   "a aprovação do cadastro (APV)."),
    "approval_required": ("Boleto faturado exige cadastro aprovado (APV). Clientes pré-aprovados (PEN) compram "
                          "à vista: PIX, cartão de crédito ou boleto antecipado."),
    "no_credit_limit": ("Cliente sem limite de crédito: boleto faturado indisponível. As formas de pagamento à "
                        "vista continuam disponíveis."),
}

# What a person reads for each code (the codes stay the API's stable contract).
RESULT_LABELS = {
    "approved": "Aprovada",
    "reserved": "Aprovada, valor reservado no limite",
    "customer_not_found": "Negada: cliente não encontrado",
    "customer_rejected": "Negada: cadastro reprovado (RPV)",
    "pending_purchases_disabled": "Negada: cadastro pré-aprovado (PEN)",
    "approval_required": "Negada: exige cadastro aprovado (APV)",
    "no_credit_limit": "Negada: sem limite de crédito",
    "insufficient_credit": "Negada: limite insuficiente",
}
# "Somente simular": the same checks, nothing kept; the message must not say it was reserved.
DRY_RUN_MESSAGES = {
    "reserved": "Compra aprovada: há limite disponível para reservar este valor. Simulação: nada foi reservado.",
}


@dataclass(frozen=True)
class Authorization:
    approved: bool
    code: str
    message: str
    method: str
    amount: Decimal
    party_id: int | None = None
    status: str | None = None
    available: Decimal | None = None
    reservation: Reservation | None = None


def _validated(session: Session, branch_id, document, amount, method) -> tuple[Branch, str, Decimal]:
    errors: dict[str, str] = {}
    branch_key = as_id(branch_id)  # "²" or an id past 64 bits is no branch, not a server error
    branch = session.get(Branch, branch_key) if branch_key is not None else None
    if branch is None:
        errors["branch_id"] = "Filial inexistente."
    number = ""
    try:
        number = normalize_document(document or "").number
    except InvalidDocument as exc:
        errors["document"] = exc.message
    value = _amount(amount, errors)
    if method not in METHODS:
        errors["method"] = "Forma de pagamento inválida: use pix, cartao, boleto_antecipado ou boleto_faturado."
    if errors:
        raise ValidationError("Não foi possível autorizar a compra. Corrija os campos indicados.",
                              field_errors=errors, code="invalid_authorization")
    return branch, number, value


def _amount(amount, errors: dict[str, str], field: str = "amount") -> Decimal:
    try:
        value = parse_money(amount)
        if not Decimal("0") < value <= MAX_AMOUNT:
            raise ValueError
        return value
    except ValueError:
        errors[field] = "Informe um valor maior que zero, com até duas casas decimais."
        return Decimal("0")


def _deny(code: str, method: str, amount: Decimal, party: Party | None = None, message: str | None = None,
          available: Decimal | None = None) -> Authorization:
    return Authorization(False, code, message or MESSAGES[code], method, amount,
                         party.id if party else None, party.status if party else None, available)


def _insufficient_message(summary: credit_accounts.CreditSummary, amount: Decimal) -> str:
    text = (f"Limite de crédito insuficiente: disponível {brl(summary.available)} para um pedido de "
            f"{brl(amount)}.")
    if summary.tolerance_amount > 0:
        text += f" Já considerada a tolerância de {brl(summary.tolerance_amount)}."
    return text


def authorise(session: Session, actor: audit.Actor, *, branch_id, document: str, amount, method: str,
              order_ref: str | None = None, installment_term: str | None = None,
              now: dt.datetime | None = None) -> Authorization:
    """Approve or deny a purchase; an approved invoiced boleto reserves its amount (rule 22)."""
    if method == INVOICED:
        credit_accounts.take_sqlite_write_lock(session)
    branch, number, value = _validated(session, branch_id, document, amount, method)
    now = now or now_utc()
    policy = policy_for(session, branch.id)
    party = session.scalar(select(Party).where(Party.branch_id == branch.id, Party.document == number))
    if party is None or party.stage != Stage.CLIENT.value:
        return _deny("customer_not_found", method, value)
    # Rule 19: RPV buys nothing; PEN buys up front only, unless the branch disabled it; APV buys.
    if party.status == CustomerStatus.RPV.value:
        return _deny("customer_rejected", method, value, party)
    if method in UPFRONT_METHODS:
        if party.status == CustomerStatus.PEN.value and not policy.pen_can_buy_upfront:
            return _deny("pending_purchases_disabled", method, value, party)
        return Authorization(True, "approved", MESSAGES["approved"], method, value, party.id, party.status)
    # Rule 20: invoiced boleto needs APV AND available credit >= the amount (plus the tolerance).
    if party.status != CustomerStatus.APV.value:
        return _deny("approval_required", method, value, party)
    account = credit_accounts.account_for(session, party.id)
    if account is None:
        return _deny("no_credit_limit", method, value, party, available=Decimal("0.00"))
    account = credit_accounts.lock_account(session, account.id)
    if account.credit_limit <= 0:  # rule 20 (invoiced boleto): limit 0 blocks it, never the up-front methods
        return _deny("no_credit_limit", method, value, party, available=Decimal("0.00"))
    summary = credit_accounts.summary_for(session, party, account=account, policy=policy, now=now)
    if value > summary.headroom:
        return _deny("insufficient_credit", method, value, party, _insufficient_message(summary, value),
                     summary.available)
    term = _term(policy, installment_term) if installment_term else None
    ref = _order_ref(session, branch.id, order_ref)
    reservation = Reservation(
        branch_id=branch.id, party_id=party.id, account_id=account.id, order_ref=ref, method=INVOICED,
        amount=value, installment_term=term, status=ReservationStatus.ACTIVE.value,
        expires_at=reservation_expiry(now, policy.reservation_business_days, branch.state),
        created_by=actor.name[:80])
    session.add(reservation)
    session.flush()
    credit_accounts.queue_limit_update(session, party, actor, account=account, policy=policy)
    return Authorization(True, "reserved", MESSAGES["reserved"], method, value, party.id, party.status,
                         summary.available - value if summary.available > value else Decimal("0.00"), reservation)


def reservation_expiry(now: dt.datetime, business_days: int, state: str | None) -> dt.datetime:
    """Rule 22 (reservation): the end of the n-th business day after today in the branch's state
    (the day of the purchase is not counted), as an instant; a Friday purchase with 5 days lasts
    until the next Friday night, never lapsing on a Saturday."""
    last_day = add_business_days(to_br(now).date(), business_days, state)
    return start_of_day_br(last_day + dt.timedelta(days=1))


def _order_ref(session: Session, branch_id: int, order_ref: str | None) -> str:
    ref = (order_ref or "").strip() or f"AUT-{secrets.token_hex(5).upper()}"
    if len(ref) > 30:
        raise ValidationError("A referência do pedido deve ter no máximo 30 caracteres.",
                              field_errors={"order_ref": "No máximo 30 caracteres."})
    if session.scalar(select(Reservation.id).where(Reservation.branch_id == branch_id, Reservation.order_ref == ref)):
        raise Conflict(f"Já existe uma autorização para o pedido {ref} nesta filial.", code="duplicate_order")
    return ref


def _term(policy, term: str | None) -> str:
    """Rule 22: only the branch's configured terms."""
    from app.services.credit.installments import normalize_term

    text = normalize_term(term or "")
    if text not in (policy.installment_terms or []):
        raise ValidationError(
            f"Prazo {text} não disponível nesta filial. Prazos: {', '.join(policy.installment_terms or [])}.",
            field_errors={"installment_term": "Escolha um dos prazos da filial."}, code="invalid_term")
    return text


def get_reservation(session: Session, reservation_id: int) -> Reservation:
    reservation = session.get(Reservation, reservation_id)
    if reservation is None:
        raise NotFound("Reserva não encontrada.")
    return reservation


def find_reservation(session: Session, branch_id: int, order_ref: str) -> Reservation:
    reservation = session.scalar(select(Reservation).where(Reservation.branch_id == branch_id,
                                                           Reservation.order_ref == (order_ref or "").strip()))
    if reservation is None:
        raise NotFound("Pedido não encontrado.")
    return reservation


def _locked(session: Session, reservation_id: int, now: dt.datetime) -> tuple[Reservation, Party]:
    credit_accounts.take_sqlite_write_lock(session)
    reservation = get_reservation(session, reservation_id)
    credit_accounts.lock_account(session, reservation.account_id)
    session.refresh(reservation)
    if reservation.status == ReservationStatus.ACTIVE.value and reservation.expires_at <= now:
        reservation.status = ReservationStatus.EXPIRED.value
        session.flush()
    return reservation, reservation.party


def change_amount(session: Session, actor: audit.Actor, reservation_id: int, new_amount, *,
                  today: dt.date | None = None, now: dt.datetime | None = None) -> Reservation:
    """Rule 22: before settlement the reservation follows the order; after it, a decrease updates
    the open titles and an increase issues new ones (checked against the limit like a purchase)."""
    now = now or now_utc()
    errors: dict[str, str] = {}
    value = _amount(new_amount, errors)
    if errors:
        raise ValidationError("Valor inválido.", field_errors=errors)
    reservation, party = _locked(session, reservation_id, now)
    if reservation.status not in (ReservationStatus.ACTIVE.value, ReservationStatus.SETTLED.value):
        raise Conflict(f"O pedido {reservation.order_ref} está {reservation.status_label.lower()}; não pode ser "
                       "alterado.", code="reservation_closed")
    delta = value - reservation.amount
    if delta == 0:
        return reservation
    if delta > 0:
        summary = credit_accounts.summary_for(session, party, now=now)
        if party.status != CustomerStatus.APV.value:
            raise Conflict(MESSAGES["approval_required"], code="approval_required")
        if delta > summary.headroom:
            # The person typed the new total: the message speaks of the total and of what the
            # limit would allow for this order (what it has now plus the current reservation).
            raise Conflict(
                f"Limite de crédito insuficiente: o pedido {reservation.order_ref} pode ir até "
                f"{brl(reservation.amount + summary.headroom)}; pedido de {brl(value)} "
                f"(aumento de {brl(delta)}).", code="insufficient_credit")
    old = reservation.amount
    if reservation.status == ReservationStatus.SETTLED.value:
        if delta < 0:
            decrease_titles(session, actor, reservation, -delta, today or today_br())
        else:
            issue_titles(session, reservation, delta, reservation.installment_term, today or today_br())
    reservation.amount = value
    audit.record(session, actor, "credit.purchase_change", "reservation", reservation.id,
                 branch_id=reservation.branch_id, document=party.document,
                 summary=f"Pedido {reservation.order_ref}: {brl(old)} → {brl(value)}")
    credit_accounts.queue_limit_update(session, party, actor)
    return reservation


def settle(session: Session, actor: audit.Actor, reservation_id: int, *, installment_term: str | None = None,
           invoice_date: dt.date | None = None, now: dt.datetime | None = None) -> list[Title]:
    """Invoicing: the reservation becomes titles on the chosen installment term (rule 22)."""
    now = now or now_utc()
    reservation, party = _locked(session, reservation_id, now)
    if reservation.status == ReservationStatus.EXPIRED.value:
        raise Conflict(f"A pré-autorização do pedido {reservation.order_ref} expirou; autorize a compra de novo.",
                       code="reservation_expired")
    if reservation.status != ReservationStatus.ACTIVE.value:
        raise Conflict(f"O pedido {reservation.order_ref} já está {reservation.status_label.lower()}.",
                       code="reservation_closed")
    policy = policy_for(session, reservation.branch_id)
    term = _term(policy, installment_term or reservation.installment_term or "")
    day = invoice_date or today_br()
    titles = issue_titles(session, reservation, reservation.amount, term, day)
    reservation.status, reservation.installment_term = ReservationStatus.SETTLED.value, term
    reservation.invoice_date, reservation.settled_at = day, now
    audit.record(session, actor, "credit.settle", "reservation", reservation.id, branch_id=reservation.branch_id,
                 document=party.document,
                 summary=f"Pedido {reservation.order_ref} faturado em {len(titles)} título(s), prazo {term}")
    return titles


def cancel(session: Session, actor: audit.Actor, reservation_id: int, reason: str = "", *,
           now: dt.datetime | None = None) -> Reservation:
    """Cancellation releases a reservation; after settlement it cancels the open titles, and the
    branch's restore mode decides whether that restores the limit (rule 21)."""
    now = now or now_utc()
    reservation, party = _locked(session, reservation_id, now)
    if reservation.status in (ReservationStatus.CANCELLED.value, ReservationStatus.EXPIRED.value):
        raise Conflict(f"O pedido {reservation.order_ref} já está {reservation.status_label.lower()}.",
                       code="reservation_closed")
    if reservation.status == ReservationStatus.SETTLED.value:
        cancel_open_titles(session, reservation, now)
    reservation.status, reservation.cancelled_at = ReservationStatus.CANCELLED.value, now
    reservation.cancel_reason = (reason or "").strip()[:300] or None
    audit.record(session, actor, "credit.purchase_cancel", "reservation", reservation.id,
                 branch_id=reservation.branch_id, document=party.document,
                 summary=f"Pedido {reservation.order_ref} cancelado", details={"reason": reservation.cancel_reason})
    credit_accounts.queue_limit_update(session, party, actor)
    return reservation


def expire_reservations(session: Session, actor: audit.Actor, *, now: dt.datetime | None = None) -> int:
    """Mark reservations past their expiry as expired and tell the platform the restored credit."""
    now = now or now_utc()
    rows = session.execute(
        select(Reservation.id, Reservation.party_id).where(
            Reservation.status == ReservationStatus.ACTIVE.value, Reservation.expires_at <= now)).all()
    if not rows:
        return 0
    session.execute(update(Reservation).where(Reservation.id.in_([r.id for r in rows]),
                                              Reservation.status == ReservationStatus.ACTIVE.value)
                    .values(status=ReservationStatus.EXPIRED.value).execution_options(synchronize_session=False))
    for party_id in sorted({r.party_id for r in rows}):
        credit_accounts.on_titles_changed(session, party_id, actor)
    return len(rows)


def list_reservations(session: Session, *, status: str | None = None, branch_id: int | None = None,
                      party_id: int | None = None, q: str = "", limit: int = 50, offset: int = 0
                      ) -> list[Reservation]:
    stmt = select(Reservation).join(Party, Party.id == Reservation.party_id)
    if status:
        stmt = stmt.where(Reservation.status == status)
    if branch_id:
        stmt = stmt.where(Reservation.branch_id == branch_id)
    if party_id:
        stmt = stmt.where(Reservation.party_id == party_id)
    if q.strip():
        like = contains_pattern(q.strip())  # a typed % or _ is searched for, not a wildcard
        stmt = stmt.where(Reservation.order_ref.ilike(like, escape=LIKE_ESCAPE)
                          | Party.name.ilike(like, escape=LIKE_ESCAPE))
    return list(session.scalars(stmt.order_by(Reservation.id.desc()).offset(offset).limit(limit)))
