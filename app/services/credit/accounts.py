"""Credit accounts: limit, tolerance, status PEN/APV/RPV, used and available credit (rules 19-21).

Available credit is derived, never stored (rule 20): limit − open amounts of credit-purchase
titles − cancelled ones not restored (when the branch restores only on payment, rule 21) −
active reservations. A payment recorded anywhere therefore restores the limit by itself; the
code that records it calls `on_titles_changed` so that the platform hears the new value.

`set_limit`, `set_status` and `apply_credit_decision` are the functions a person's decision
(for example after a bureau consultation, rule 16) calls; each change is recorded with who and
why and queued to the commerce platform in the same transaction (rule 21).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import and_, case, exists, func, literal, select, type_coerce, update
from sqlalchemy.orm import Session

from app.db import is_postgres, lock_for_update
from app.models import (
    CreditAccount,
    CreditLimitChange,
    CreditRelease,
    CustomerStatusChange,
    OutboundUpdate,
    Party,
    Reservation,
    Title,
)
from app.models.base import Money
from app.models.commerce import UpdateKind
from app.models.credit import ReservationStatus, RestoreMode
from app.models.parties import CustomerStatus
from app.models.titles import COLLECTIBLE_STATUSES, TitleStatus
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.core.money import brl, parse_money
from app.services.core.permissions import Capability, allows
from app.services.credit import platform_updates
from app.services.credit.policy import policy_for

CREDIT_ORIGIN = "credit_purchase"
MAX_LIMIT = Decimal("999999999999.99")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CreditSummary:
    limit: Decimal
    tolerance_pct: Decimal
    tolerance_enabled: bool
    titles_open: Decimal  # open amounts of credit-purchase titles
    titles_held: Decimal  # cancelled credit titles not restored (restore on payment only)
    reserved: Decimal  # active, unexpired reservations

    @property
    def used(self) -> Decimal:
        return self.titles_open + self.titles_held + self.reserved

    @property
    def available(self) -> Decimal:
        """Limit − used, never below zero (the tolerance may have taken the account over its limit)."""
        return max(self.limit - self.used, ZERO)

    @property
    def tolerance_amount(self) -> Decimal:
        if not self.tolerance_enabled:
            return ZERO
        return (self.limit * self.tolerance_pct / 100).quantize(CENT, rounding=ROUND_DOWN)

    @property
    def headroom(self) -> Decimal:
        """What one more purchase may take: available plus the tolerance (rule 20)."""
        return max(self.limit + self.tolerance_amount - self.used, ZERO)


def money_expr(expr):
    """A SQL money expression read back as Decimal (sums, differences: Money is cents on SQLite)."""
    return type_coerce(expr, Money())


def titles_open_sq(party_id):
    return select(money_expr(func.coalesce(func.sum(Title.open_amount), 0))).where(
        Title.party_id == party_id, Title.origin == CREDIT_ORIGIN, Title.status.in_(COLLECTIBLE_STATUSES),
    ).scalar_subquery()


# Rule 21 (paid or cancelled titles restore the credit; the seller may restore only on payment):
# where the branch restores only on payment, a cancelled credit-purchase title keeps using the limit
# ("held") until it is paid or a person releases its credit. The one definition of a held title.
def holds_cancelled_titles(restore_mode: str | None) -> bool:
    """Whether a branch with this restore mode keeps cancelled titles on the limit (None: no policy
    saved yet, whose default restores only on payment)."""
    return (restore_mode or RestoreMode.PAYMENT.value) == RestoreMode.PAYMENT.value


def _held(party_id):
    released = exists().where(CreditRelease.title_id == Title.id)
    return and_(Title.party_id == party_id, Title.origin == CREDIT_ORIGIN,
                Title.status == TitleStatus.CANCELLED.value, ~released)


def titles_held_sq(party_id, restore_mode):
    """The held amount of a party; `restore_mode` is the branch's value, or a column for a list."""
    held = select(money_expr(func.coalesce(func.sum(money_expr(Title.amount - Title.amount_received)), 0))).where(
        _held(party_id)).scalar_subquery()
    if restore_mode is None or isinstance(restore_mode, str):
        return held if holds_cancelled_titles(restore_mode) else money_expr(literal(0))
    holds = func.coalesce(restore_mode, RestoreMode.PAYMENT.value) == RestoreMode.PAYMENT.value
    return money_expr(case((holds, held), else_=literal(0)))


def held_titles(session: Session, party_id: int, restore_mode: str | None) -> list[Title]:
    """The titles `titles_held_sq` sums, by due date."""
    if not holds_cancelled_titles(restore_mode):
        return []
    return list(session.scalars(select(Title).where(_held(party_id)).order_by(Title.due_date, Title.id)))


def reserved_sq(party_id, now: dt.datetime):
    return select(money_expr(func.coalesce(func.sum(Reservation.amount), 0))).where(
        Reservation.party_id == party_id, Reservation.status == ReservationStatus.ACTIVE.value,
        Reservation.expires_at > now,
    ).scalar_subquery()


def summary_for(session: Session, party: Party, *, account: CreditAccount | None = None, policy=None,
                now: dt.datetime | None = None) -> CreditSummary:
    """Used and available credit, read in ONE statement so that concurrent changes are seen whole."""
    account = account if account is not None else account_for(session, party.id)
    policy = policy or policy_for(session, party.branch_id)
    now = now or now_utc()
    held = titles_held_sq(party.id, policy.restore_mode)
    row = session.execute(select(titles_open_sq(party.id), held, reserved_sq(party.id, now))).one()
    return CreditSummary(
        limit=account.credit_limit if account else ZERO,
        tolerance_pct=account.tolerance_pct if account else ZERO,
        tolerance_enabled=bool(policy.tolerance_enabled),
        titles_open=Decimal(row[0]).quantize(CENT), titles_held=Decimal(row[1]).quantize(CENT),
        reserved=Decimal(row[2]).quantize(CENT),
    )


def account_for(session: Session, party_id: int) -> CreditAccount | None:
    return session.scalar(select(CreditAccount).where(CreditAccount.party_id == party_id))


def ensure_account(session: Session, party: Party) -> CreditAccount:
    account = account_for(session, party.id)
    if account is None:
        account = CreditAccount(branch_id=party.branch_id, party_id=party.id, credit_limit=ZERO,
                                tolerance_pct=ZERO)
        session.add(account)
        session.flush()
    return account


def lock_account(session: Session, account_id: int) -> CreditAccount:
    """Serialise every change of used credit on one account and return its fresh row.

    PostgreSQL: SELECT … FOR UPDATE on the account row. SQLite: an UPDATE that changes nothing
    takes the database write lock (SQLite serialises writers), so the check and the insert that
    follow happen in one write transaction.
    """
    stmt = select(CreditAccount).where(CreditAccount.id == account_id).execution_options(populate_existing=True)
    if is_postgres(session):
        return session.scalars(stmt.with_for_update()).one()
    session.execute(update(CreditAccount).where(CreditAccount.id == account_id)
                    .values(updated_at=CreditAccount.updated_at).execution_options(synchronize_session=False))
    return session.scalars(stmt).one()


def take_sqlite_write_lock(session: Session) -> None:
    """SQLite only: start the transaction with a write, so it waits for other writers instead of
    failing later on a stale snapshot. A no-op on PostgreSQL (row locks do the work there)."""
    if not is_postgres(session):
        session.execute(update(CreditAccount).where(CreditAccount.id == -1)
                        .values(updated_at=CreditAccount.updated_at).execution_options(synchronize_session=False))


def require_credit_manager(actor: audit.Actor) -> None:
    """Only finance and admin (or the routine and the CLI, as "system") change limits and statuses."""
    if not allows(actor.role, Capability.MANAGE_CREDIT):
        raise PermissionDenied("Somente o financeiro ou um administrador altera limite e status de crédito.")


def _party(session: Session, party_id: int) -> Party:
    party = session.get(Party, party_id)
    if party is None:
        raise NotFound("Cliente não encontrado.")
    return party


def _reason(reason: str | None, errors: dict[str, str]) -> str:
    text = (reason or "").strip()
    if not text:
        errors["reason"] = "Informe o motivo da alteração."
    elif len(text) > 500:
        errors["reason"] = "O motivo deve ter no máximo 500 caracteres."
    return text


def _percent(value, errors: dict[str, str]) -> Decimal | None:
    try:
        pct = parse_money(value)
    except ValueError:
        errors["tolerance_pct"] = "Informe a tolerância em % (0 a 100, até duas casas)."
        return None
    if not ZERO <= pct <= 100:
        errors["tolerance_pct"] = "A tolerância deve ficar entre 0 e 100%."
        return None
    return pct


def set_limit(session: Session, actor: audit.Actor, party_id: int, limit, reason: str, *,
              tolerance_pct=None) -> CreditAccount:
    """Set the credit limit (and, optionally, the tolerance %) of a client, recorded with who and why.

    Limit 0 blocks invoiced boleto but leaves the up-front methods (rule 20 (invoiced boleto and available credit)).
    """
    require_credit_manager(actor)
    take_sqlite_write_lock(session)
    party = _party(session, party_id)
    errors: dict[str, str] = {}
    try:
        new_limit = parse_money(limit)
        if not ZERO <= new_limit <= MAX_LIMIT:
            raise ValueError
    except ValueError:
        errors["limit"] = "Informe um limite maior ou igual a zero, com até duas casas decimais."
        new_limit = ZERO
    new_tol = None if tolerance_pct in (None, "") else _percent(tolerance_pct, errors)
    text = _reason(reason, errors)
    policy = policy_for(session, party.branch_id)
    if new_tol and not policy.tolerance_enabled:
        errors["tolerance_pct"] = "A tolerância está desligada na política de crédito desta filial."
    if errors:
        raise ValidationError("Não foi possível alterar o limite. Corrija os campos indicados.", field_errors=errors)
    account = lock_account(session, ensure_account(session, party).id)
    old_limit, old_tol = account.credit_limit, account.tolerance_pct
    new_tol = old_tol if new_tol is None else new_tol
    if (old_limit, old_tol) == (new_limit, new_tol):
        return account
    account.credit_limit, account.tolerance_pct = new_limit, new_tol
    session.add(CreditLimitChange(account_id=account.id, at=now_utc(), actor=actor.name[:80], user_id=actor.user_id,
                                  old_limit=old_limit, new_limit=new_limit, old_tolerance_pct=old_tol,
                                  new_tolerance_pct=new_tol, reason=text))
    audit.record(session, actor, "credit.limit", "party", party.id, branch_id=party.branch_id,
                 document=party.document,
                 summary=f"Limite de crédito de {party.name}: {brl(old_limit)} → {brl(new_limit)}",
                 details={"limit": [str(old_limit), str(new_limit)], "tolerance_pct": [str(old_tol), str(new_tol)],
                          "reason": text})
    session.flush()
    queue_limit_update(session, party, actor, account=account, policy=policy)
    return account


def set_status(session: Session, actor: audit.Actor, party_id: int, status: str, reason: str) -> bool:
    """Change PEN/APV/RPV with history (rule 21); returns False when the status was already that."""
    require_credit_manager(actor)
    # Read locked: two changes at once must each see the other's result, or the history would chain
    # wrong ("PEN → APV" twice) and the platform could keep a stale status (rule 21).
    party = lock_for_update(session, Party, party_id)
    if party is None:
        raise NotFound("Cliente não encontrado.")
    errors: dict[str, str] = {}
    if status not in {s.value for s in CustomerStatus}:
        errors["status"] = "Status inválido: use PEN, APV ou RPV."
    text = _reason(reason, errors)
    if errors:
        raise ValidationError("Não foi possível alterar o status. Corrija os campos indicados.", field_errors=errors)
    old = party.status
    if old == status:
        return False
    party.status = status
    session.add(CustomerStatusChange(party_id=party.id, at=now_utc(), actor=actor.name[:80], user_id=actor.user_id,
                                     from_status=old, to_status=status, reason=text))
    audit.record(session, actor, "credit.status", "party", party.id, branch_id=party.branch_id,
                 document=party.document, summary=f"Status de {party.name}: {old} → {status}",
                 details={"status": [old, status], "reason": text})
    session.flush()
    platform_updates.queue_update(session, party, UpdateKind.STATUS, status_payload(party), actor)
    return True


def apply_credit_decision(session: Session, actor: audit.Actor, party_id: int, *, status: str | None = None,
                          limit=None, reason: str) -> None:
    """Apply a person's credit decision (status and/or limit) in the caller's transaction."""
    if status:
        set_status(session, actor, party_id, status, reason)
    if limit not in (None, ""):
        set_limit(session, actor, party_id, limit, reason)


def status_payload(party: Party) -> dict:
    return {"event": "customer_status", "customer_id": party.external_id, "document": party.document,
            "branch_cnpj": party.branch.cnpj if party.branch else None, "status": party.status}


def limit_payload(party: Party, summary: CreditSummary) -> dict:
    return {"event": "credit_limit", "customer_id": party.external_id, "document": party.document,
            "branch_cnpj": party.branch.cnpj if party.branch else None, "status": party.status,
            "credit_limit": str(summary.limit), "available_credit": str(summary.available),
            "tolerance_pct": str(summary.tolerance_pct if summary.tolerance_enabled else ZERO)}


def queue_limit_update(session: Session, party: Party, actor: audit.Actor, *, account: CreditAccount | None = None,
                       policy=None, force: bool = False) -> OutboundUpdate | None:
    """Queue the current limit and available credit for the platform (same transaction, rule 21)."""
    session.flush()
    summary = summary_for(session, party, account=account, policy=policy)
    return platform_updates.queue_update(session, party, UpdateKind.LIMIT, limit_payload(party, summary), actor,
                                        force=force)


def resend_limit(session: Session, actor: audit.Actor, party_id: int) -> OutboundUpdate:
    """The manual "Reenviar limite" (the platform's advice: send the limit again when it shows another one)."""
    party = _party(session, party_id)
    row = queue_limit_update(session, party, actor, force=True)
    if row is None:
        raise Conflict("A filial não tem a plataforma de comércio configurada na política de crédito.",
                       code="platform_not_configured")
    audit.record(session, actor, "credit.resend_limit", "party", party.id, branch_id=party.branch_id,
                 document=party.document, summary=f"Limite de {party.name} reenviado à plataforma")
    return row


def on_titles_changed(session: Session, party_id: int, actor: audit.Actor) -> OutboundUpdate | None:
    """Call after paying or cancelling titles of a client, in the same transaction.

    Rule 21: paid (and, per branch, cancelled) titles restore the available credit; the platform
    must hear the new value. Nothing happens for a client without a credit account.
    """
    account = account_for(session, party_id)
    if account is None:
        return None
    return queue_limit_update(session, _party(session, party_id), actor, account=account)


def release_title(session: Session, actor: audit.Actor, title_id: int, reason: str) -> CreditRelease:
    """Give back the credit of a cancelled title when the branch restores only on payment (rule 21)."""
    require_credit_manager(actor)
    title = session.get(Title, title_id)
    if title is None or title.origin != CREDIT_ORIGIN:
        raise NotFound("Título de compra a prazo não encontrado.")
    errors: dict[str, str] = {}
    text = _reason(reason, errors)
    if errors:
        raise ValidationError("Informe o motivo da restauração.", field_errors=errors)
    if title.status != TitleStatus.CANCELLED.value:
        raise Conflict("Somente títulos cancelados podem ter o limite restaurado manualmente.", code="not_cancelled")
    if not holds_cancelled_titles(policy_for(session, title.branch_id).restore_mode):
        raise Conflict("Nesta filial o cancelamento já restaura o limite.", code="already_restored")
    if session.scalar(select(CreditRelease.id).where(CreditRelease.title_id == title.id)):
        raise Conflict("O limite deste título já foi restaurado.", code="already_restored")
    release = CreditRelease(title_id=title.id, party_id=title.party_id, amount=title.amount - title.amount_received,
                            at=now_utc(), actor=actor.name[:80], reason=text[:300])
    session.add(release)
    audit.record(session, actor, "credit.release_title", "title", title.id, branch_id=title.branch_id,
                 summary=f"Limite do título {title.number} restaurado ({brl(release.amount)})",
                 details={"reason": text})
    on_titles_changed(session, title.party_id, actor)
    return release


def limit_history(session: Session, party_id: int) -> list[CreditLimitChange]:
    return list(session.scalars(
        select(CreditLimitChange).join(CreditAccount, CreditAccount.id == CreditLimitChange.account_id)
        .where(CreditAccount.party_id == party_id).order_by(CreditLimitChange.id.desc())))


def status_history(session: Session, party_id: int) -> list[CustomerStatusChange]:
    return list(session.scalars(select(CustomerStatusChange).where(CustomerStatusChange.party_id == party_id)
                                .order_by(CustomerStatusChange.id.desc())))


def open_credit_titles(session: Session, party_id: int) -> list[Title]:
    """Credit-purchase titles still to be paid, by due date."""
    return list(session.scalars(
        select(Title).where(Title.party_id == party_id, Title.origin == CREDIT_ORIGIN,
                            Title.status.in_(COLLECTIBLE_STATUSES))
        .order_by(Title.due_date, Title.id)))
