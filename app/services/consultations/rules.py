"""The consultation policy's rules as pure functions: no database, no bureau, no clock of their own.

- Reuse window (domain rule 14): a report completed on or after the start of (today - N days),
  Sao Paulo calendar, is shown again instead of paying for a new one; N = 0 turns reuse off.
- Monthly quota: charged consultations requested in the calendar month of `today` (Sao Paulo).
- Retention (rule 15): reports requested before the start of (today - retention days) are anonymised.
- Suggested decision (rule 16): score and risk class against the branch's thresholds give a
  suggested status and limit; the client's own titles overdue here cap it at PEN with limit 0
  (a debtor here is not approved because the bureau does not know the debt yet); a person applies
  or overrides it (LGPD art. 20).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal

from app.services.core.clock import BR_TZ
from app.services.core.money import brl

RISK_CLASSES = ("A", "B", "C", "D", "E")
SUGGESTED_STATUSES = ("APV", "PEN", "RPV")
MAX_REUSE_DAYS = 365
MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650
# A pending consultation younger than this is "in progress": a second click waits for it instead
# of paying twice. An older one was interrupted (crash) and no longer blocks.
PENDING_IN_PROGRESS = dt.timedelta(minutes=5)


def parse_classes(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """'a, B;c' -> ('A', 'B', 'C'); unknown letters are kept so validation can name them."""
    if value is None:
        return ()
    items = value if isinstance(value, tuple | list) else value.replace(";", ",").replace(" ", ",").split(",")
    seen: list[str] = []
    for item in items:
        letter = item.strip().upper()
        if letter and letter not in seen:
            seen.append(letter)
    return tuple(sorted(seen))


@dataclass(frozen=True)
class ConsultationPolicyValues:
    reuse_days: int = 30
    monthly_quota: int | None = None
    cost_per_consultation: Decimal = Decimal("0.00")
    retention_days: int = 365
    approve_min_score: int = 700
    reject_below_score: int = 300
    approve_risk_classes: tuple[str, ...] = ("A", "B")
    reject_risk_classes: tuple[str, ...] = ("E",)
    max_restrictions_for_approval: Decimal = Decimal("0.00")
    approved_limit: Decimal = Decimal("1000.00")
    pending_limit: Decimal = Decimal("0.00")
    overdue_block_days: int = 30

    @classmethod
    def from_row(cls, row) -> ConsultationPolicyValues:
        """From a ConsultationPolicy row, or the defaults when the branch has none."""
        if row is None:
            return cls()
        values = {f.name: getattr(row, f.name) for f in fields(cls)}
        values["approve_risk_classes"] = parse_classes(row.approve_risk_classes)
        values["reject_risk_classes"] = parse_classes(row.reject_risk_classes)
        return cls(**values)

    def validate(self) -> dict[str, str]:
        """Field errors in pt-BR; empty when the policy can be saved."""
        errors: dict[str, str] = {}
        if not 0 <= self.reuse_days <= MAX_REUSE_DAYS:
            errors["reuse_days"] = f"Informe de 0 a {MAX_REUSE_DAYS} dias (0 desliga o reaproveitamento)."
        if self.monthly_quota is not None and self.monthly_quota < 1:
            errors["monthly_quota"] = ("A cota mensal deve ser pelo menos 1 "
                                       "(deixe em branco para não limitar).")
        if self.cost_per_consultation < 0:
            errors["cost_per_consultation"] = "O custo não pode ser negativo."
        if not MIN_RETENTION_DAYS <= self.retention_days <= MAX_RETENTION_DAYS:
            errors["retention_days"] = f"Informe de {MIN_RETENTION_DAYS} a {MAX_RETENTION_DAYS} dias."
        elif self.retention_days < self.reuse_days:
            errors["retention_days"] = "A retenção não pode ser menor que a janela de reaproveitamento."
        for name in ("approve_min_score", "reject_below_score"):
            if not 0 <= getattr(self, name) <= 1000:
                errors[name] = "O score vai de 0 a 1000."
        if "approve_min_score" not in errors and "reject_below_score" not in errors \
                and self.reject_below_score > self.approve_min_score:
            errors["reject_below_score"] = "O score de reprovação deve ser menor ou igual ao de aprovação."
        for name in ("approve_risk_classes", "reject_risk_classes"):
            unknown = [c for c in getattr(self, name) if c not in RISK_CLASSES]
            if unknown:
                errors[name] = f"Classes de risco inválidas: {', '.join(unknown)} (use A a E)."
        both = set(self.approve_risk_classes) & set(self.reject_risk_classes)
        if both and "reject_risk_classes" not in errors:
            errors["reject_risk_classes"] = (
                f"A classe {', '.join(sorted(both))} não pode aprovar e reprovar ao mesmo tempo.")
        if not 0 <= self.overdue_block_days <= MAX_RETENTION_DAYS:
            errors["overdue_block_days"] = f"Informe de 0 a {MAX_RETENTION_DAYS} dias (0 desliga)."
        for name in ("max_restrictions_for_approval", "approved_limit", "pending_limit"):
            if getattr(self, name) < 0:
                errors[name] = "O valor não pode ser negativo."
        return errors


@dataclass(frozen=True)
class Suggestion:
    status: str  # APV | PEN | RPV
    limit: Decimal
    reasons: tuple[str, ...]
    rule: str = ""  # which rule decided, in words, shown first to the person who reviews it


def suggest(policy: ConsultationPolicyValues, score: int, risk_class: str, restrictions_total: Decimal,
            own_overdue_days: int = 0) -> Suggestion:
    """Rule 16: RPV when the score or the class is in the rejection band; APV when the score,
    the class and the restrictions all meet the approval thresholds; otherwise PEN (buys only with
    methods paid up front, rule 19). A title of the client's own overdue here for
    `overdue_block_days` or more caps the suggestion at PEN with limit 0. The reasons say which
    threshold decided, for the person who reviews the suggestion."""
    from_bureau = _suggest_from_bureau(policy, score, risk_class, restrictions_total)
    block = policy.overdue_block_days
    if block <= 0 or own_overdue_days < block or from_bureau.status == "RPV":
        return from_bureau
    reason = (f"título da própria empresa vencido há {own_overdue_days} dias "
              f"(a política limita a PEN com limite zero a partir de {block} dias)")
    return Suggestion("PEN", Decimal("0.00"), (reason, *from_bureau.reasons), rule="títulos vencidos nesta empresa")


def _suggest_from_bureau(policy: ConsultationPolicyValues, score: int, risk_class: str,
                         restrictions_total: Decimal) -> Suggestion:
    risk_class = (risk_class or "").upper()
    rejects = []
    if score < policy.reject_below_score:
        rejects.append(f"score {score} abaixo de {policy.reject_below_score}")
    if risk_class in policy.reject_risk_classes:
        rejects.append(f"classe de risco {risk_class} na faixa de reprovação")
    if rejects:
        return Suggestion("RPV", Decimal("0.00"), tuple(rejects), rule="faixa de reprovação")
    misses = []
    if score < policy.approve_min_score:
        misses.append(f"score {score} abaixo de {policy.approve_min_score} para aprovar")
    if risk_class not in policy.approve_risk_classes:
        misses.append(f"classe de risco {risk_class} fora das classes de aprovação "
                      f"({', '.join(policy.approve_risk_classes) or 'nenhuma'})")
    if restrictions_total > policy.max_restrictions_for_approval:
        misses.append(f"restrições de {brl(restrictions_total)} acima do máximo de "
                      f"{brl(policy.max_restrictions_for_approval)} para aprovar")
    if misses:
        return Suggestion("PEN", policy.pending_limit, tuple(misses), rule="critérios de aprovação não atendidos")
    return Suggestion("APV", policy.approved_limit,
                      (f"score {score} ≥ {policy.approve_min_score}, classe {risk_class}, "
                       f"restrições dentro do limite",), rule="critérios de aprovação atendidos")


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight in Sao Paulo, as an aware instant (the business calendar, rule for every date)."""
    return dt.datetime.combine(day, dt.time(), BR_TZ)


def reuse_cutoff(today: dt.date, reuse_days: int) -> dt.datetime | None:
    """Reports completed at or after this instant may be reused; None when reuse is off."""
    if reuse_days <= 0:
        return None
    return start_of_day(today - dt.timedelta(days=reuse_days))


def month_bounds(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first instant of the month, first instant of the next month) in Sao Paulo."""
    first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return start_of_day(first), start_of_day(following)


def quota_exceeded(policy: ConsultationPolicyValues, used_this_month: int) -> bool:
    return policy.monthly_quota is not None and used_this_month >= policy.monthly_quota


def retention_cutoff(today: dt.date, retention_days: int) -> dt.datetime:
    """Consultations requested before this instant have passed their retention period."""
    return start_of_day(today - dt.timedelta(days=retention_days))

