"""Per-branch negativation policy: minimum amount (rule 8), prescription years (rule 3), notice days."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from app.models import Branch, BranchPolicy
from app.models.branch_policy import DEFAULT_NOTICE_DAYS, DEFAULT_PRESCRIPTION_YEARS
from app.services.core import audit
from app.services.core.errors import NotFound, ValidationError
from app.services.core.money import parse_money


@dataclass(frozen=True)
class PolicyValues:
    """The values in force for one branch (defaults when the branch never saved a policy)."""

    branch_id: int
    min_amount: Decimal = Decimal("0.00")
    prescription_years: int = DEFAULT_PRESCRIPTION_YEARS
    notice_days: int = DEFAULT_NOTICE_DAYS


def policy_for(session: Session, branch_id: int) -> PolicyValues:
    row = session.get(BranchPolicy, branch_id)
    if row is None:
        return PolicyValues(branch_id)
    return PolicyValues(branch_id, row.min_amount, row.prescription_years, row.notice_days)


def save_policy(
    session: Session,
    actor: audit.Actor,
    branch_id: int,
    *,
    min_amount: str | Decimal,
    prescription_years: str | int,
    notice_days: str | int,
) -> BranchPolicy:
    if session.get(Branch, branch_id) is None:
        raise NotFound("Filial não encontrada.")
    errors: dict[str, str] = {}
    try:
        amount = parse_money(min_amount) if str(min_amount).strip() else Decimal("0.00")
        if amount < 0:
            raise ValueError(min_amount)
    except ValueError:
        errors["min_amount"] = "Informe um valor mínimo maior ou igual a zero."
        amount = Decimal("0")
    years = _int(prescription_years)
    # Rule 3: never more than the CDC's five years; shorter prescriptions exist for some debts.
    if years is None or not 1 <= years <= 5:
        errors["prescription_years"] = "A prescrição deve ficar entre 1 e 5 anos (CDC art. 43 §1)."
    days = _int(notice_days)
    if days is None or not 1 <= days <= 90:
        errors["notice_days"] = "O prazo de notificação deve ficar entre 1 e 90 dias."
    if errors:
        raise ValidationError(
            "Não foi possível salvar a política. Corrija os campos indicados.", field_errors=errors
        )
    row = session.get(BranchPolicy, branch_id)
    before = (
        {}
        if row is None
        else {
            "min_amount": row.min_amount,
            "prescription_years": row.prescription_years,
            "notice_days": row.notice_days,
        }
    )
    if row is None:
        row = BranchPolicy(branch_id=branch_id)
        session.add(row)
    row.min_amount, row.prescription_years, row.notice_days = amount, years, days
    after = {"min_amount": amount, "prescription_years": years, "notice_days": days}
    audit.record(
        session,
        actor,
        "settings.branch_policy",
        "branch",
        branch_id,
        branch_id=branch_id,
        summary="Política de negativação da filial alterada",
        details=audit.diff(before, after),
    )
    return row


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
