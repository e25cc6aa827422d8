"""What needs attention today, per branch: the home page's list.

Each line is a count and the filter of the list that shows those rows, so a person goes from
"3 baixas com prazo legal vencendo" straight to the three negativations. Only what asks for a
person's action is listed; a branch with nothing to do does not appear.
- removals near or past their legal deadline: rule 9 (removal after payment), deadline today or
  on the next business day, or already past, and not yet confirmed by the bureau;
- negativations pending (the outbox has not had the bureau's answer) or in error;
- runs of the routine that failed or were interrupted in the last days (dry runs excluded);
- the month's consultation quota 80 % used or more;
- platform deliveries (rule 21, credit restored and reported) that failed for good.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Branch, CollectionRun, Negativation, OutboundUpdate
from app.services.consultations.consult import used_this_month
from app.services.consultations.policy import policy_for as consultation_policy
from app.services.core.business_days import next_business_day
from app.services.core.clock import start_of_day_br

RUN_PROBLEM_STATUSES = ("failed", "interrupted")
RECENT_RUN_DAYS = 7
QUOTA_WARNING_SHARE = 0.8


@dataclass(frozen=True)
class AttentionLine:
    kind: str  # removals_late | removals_near | pending | error | runs | quota | deliveries
    count: int
    text: str
    filters: dict = field(default_factory=dict)  # query of the list that shows these rows


@dataclass
class BranchAttention:
    branch_id: int
    branch_name: str
    lines: list[AttentionLine]


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _per_branch(session: Session, stmt) -> dict[int, int]:
    return {branch_id: count for branch_id, count in session.execute(stmt) if count}


def removal_deadline_counts(session: Session, today: dt.date) -> tuple[dict[int, int], dict[int, int]]:
    """({branch: removals past their deadline}, {branch: removals due today or the next business day})."""
    waiting = (Negativation.removal_deadline.is_not(None), Negativation.removed_at.is_(None),
               Negativation.status != "error")
    late = _per_branch(session, select(Negativation.branch_id, func.count()).where(
        *waiting, Negativation.removal_deadline < today).group_by(Negativation.branch_id))
    near = _per_branch(session, select(Negativation.branch_id, func.count()).where(
        *waiting, Negativation.removal_deadline >= today,
        Negativation.removal_deadline <= next_business_day(today)).group_by(Negativation.branch_id))
    return late, near


def attention_today(session: Session, today: dt.date) -> list[BranchAttention]:
    late, near = removal_deadline_counts(session, today)
    by_status = {}
    for status in ("pending", "error"):
        by_status[status] = _per_branch(session, select(Negativation.branch_id, func.count()).where(
            Negativation.status == status).group_by(Negativation.branch_id))
    since = start_of_day_br(today - dt.timedelta(days=RECENT_RUN_DAYS))
    runs = _per_branch(session, select(CollectionRun.branch_id, func.count()).where(
        CollectionRun.status.in_(RUN_PROBLEM_STATUSES), CollectionRun.dry_run.is_(False),
        CollectionRun.started_at >= since).group_by(CollectionRun.branch_id))
    deliveries = _per_branch(session, select(OutboundUpdate.branch_id, func.count()).where(
        OutboundUpdate.status == "failed").group_by(OutboundUpdate.branch_id))
    out = []
    for branch in session.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.name)):
        b = branch.id
        lines = []
        if late.get(b):
            lines.append(AttentionLine("removals_late", late[b], _n(late[b], "baixa com prazo legal vencido",
                                                                    "baixas com prazo legal vencido"),
                                       {"deadline": "late"}))
        if near.get(b):
            lines.append(AttentionLine("removals_near", near[b], _n(near[b], "baixa com prazo legal até o próximo "
                                                                    "dia útil", "baixas com prazo legal até o "
                                                                    "próximo dia útil"), {"deadline": "near"}))
        if by_status["pending"].get(b):
            n = by_status["pending"][b]
            lines.append(AttentionLine("pending", n, _n(n, "negativação pendente de resposta do bureau",
                                                        "negativações pendentes de resposta do bureau"),
                                       {"status": "pending"}))
        if by_status["error"].get(b):
            n = by_status["error"][b]
            lines.append(AttentionLine("error", n, _n(n, "negativação com erro", "negativações com erro"),
                                       {"status": "error"}))
        if runs.get(b):
            lines.append(AttentionLine("runs", runs[b], _n(runs[b], "execução da rotina com falha ou interrompida",
                                                           "execuções da rotina com falha ou interrompidas")
                                       + f" (últimos {RECENT_RUN_DAYS} dias)", {"status": "problem"}))
        policy = consultation_policy(session, b)
        if policy.monthly_quota:
            used = used_this_month(session, b, today)
            if used >= policy.monthly_quota * QUOTA_WARNING_SHARE:
                lines.append(AttentionLine("quota", used, f"Cota de consultas do mês: {used} de "
                                                          f"{policy.monthly_quota} usadas", {}))
        if deliveries.get(b):
            lines.append(AttentionLine("deliveries", deliveries[b], _n(
                deliveries[b], "envio à plataforma com falha", "envios à plataforma com falha"),
                {"status": "failed"}))
        if lines:
            out.append(BranchAttention(b, branch.name, lines))
    return out
