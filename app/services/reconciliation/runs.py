"""Reconciliation runs: daily per branch, "Conciliar agora" (queued), the CLI; paced and resumable.

A run checks, in id order, every entry of the branch that should be live or pending at the bureau
(pendente, em notificação, ativo, baixa pendente) and every entry removed in the last 30 days.
Each entry's result and the run's cursor are committed together (`checks.check_one`), so a run
killed at any line resumes right after the last entry it recorded: the next holder of the branch's
lease finds the run still `running` and carries it on (habit 5). Bureau calls are paced at
RATE_SHARE of the branch's known rate limit (the collections policy's), or DEFAULT_RATE_PER_S when
none is known: reconciliation is background work and leaves room for inclusions and removals.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.db import transaction
from app.models import Branch, CollectionPolicy, Negativation
from app.models.reconciliation import DIVERGENCE_KIND_LABELS, DivergenceKind, ReconciliationRun
from app.services.core import audit
from app.services.core.clock import BR_TZ, now_utc
from app.services.core.errors import Conflict, NotFound, ValidationError
from app.services.core.locks import LockBusy, held_with_heartbeat
from app.services.core.rate_limit import PacedBureau, TokenBucket

from .checks import CheckResult, check_one

log = logging.getLogger("creditdesk.reconciliation")

DEFAULT_RATE_PER_S = 10.0
RATE_SHARE = 0.8
REMOVED_WINDOW = dt.timedelta(days=30)
LIVE_OR_PENDING = ("pending", "notice", "active", "removal_pending")
DEFAULT_RUN_TIME = "04:00"  # São Paulo: before the working day, after the night's removals
BATCH = 200
STATUS_LABELS = {"queued": "na fila", "running": "em andamento", "done": "concluída", "failed": "falhou",
                 "skipped": "não executada", "busy": "outra conciliação em andamento nesta filial"}
Progress = Callable[[int, int], None]


@dataclass
class RunSummary:
    run_id: int | None
    branch_id: int
    status: str
    total: int = 0
    checked: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    message: str = ""

    def lines(self) -> list[str]:
        """The summary in pt-BR, for the CLI and logs."""
        status = STATUS_LABELS.get(self.status, self.status)
        head = f"Conciliação nº {self.run_id or '—'} (filial {self.branch_id}): {status}"
        out = [head, f"  Verificadas: {self.checked} de {self.total}"]
        out += [f"  {DIVERGENCE_KIND_LABELS[DivergenceKind(k)]}: {n}" for k, n in self.counts.items() if n]
        if self.message:
            out.append(f"  {self.message}")
        return out


def lease_name(branch_id: int) -> str:
    return f"reconciliation:branch:{branch_id}"


def candidates(branch_id: int, now: dt.datetime, after_id: int = 0):
    """Entries to check, in id order after `after_id` (a run's cursor)."""
    return select(Negativation.id).where(
        Negativation.branch_id == branch_id, Negativation.id > after_id,
        or_(Negativation.status.in_(LIVE_OR_PENDING),
            and_(Negativation.status == "removed", Negativation.removed_at >= now - REMOVED_WINDOW)),
    ).order_by(Negativation.id)


def pace_for(session: Session, branch_id: int, config: dict | None = None) -> float:
    policy = session.get(CollectionPolicy, branch_id)
    if policy is not None and policy.rate_limit_per_s:
        return max(0.1, policy.rate_limit_per_s * RATE_SHARE)
    return float((config or {}).get("RECONCILIATION_RATE_PER_S") or DEFAULT_RATE_PER_S)


def queue_run(session: Session, actor: audit.Actor, branch_id: int, *, trigger: str = "manual") -> ReconciliationRun:
    """"Conciliar agora" (web, API): the scheduler starts it within a minute, so a long run never ties
    up a web worker. The caller commits."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("Filial não encontrada.")
    if branch.bureau_integration_id is None:
        raise ValidationError(f"A filial {branch.name} não tem integração com o bureau.", code="no_integration")
    waiting = session.scalar(select(ReconciliationRun.id).where(
        ReconciliationRun.branch_id == branch_id, ReconciliationRun.status.in_(("queued", "running"))).limit(1))
    if waiting is not None:
        raise Conflict(f"Já existe uma conciliação na fila ou em andamento para esta filial (nº {waiting}).",
                       code="reconciliation_already_queued")
    run = ReconciliationRun(branch_id=branch_id, trigger=trigger, requested_by=actor.name[:80],
                            requested_by_id=actor.user_id, status="queued", counts={})
    session.add(run)
    session.flush()
    audit.record(session, actor, "reconciliation.queue", "reconciliation_run", run.id, branch_id=branch_id,
                 summary="Conciliação com o bureau solicitada")
    return run


def queue_runs(session: Session, actor: audit.Actor, branch_id: int | None = None, *,
               trigger: str = "manual") -> list[ReconciliationRun]:
    """"Conciliar agora" for one branch or every branch with an integration; a branch that already
    has a run queued or running keeps it (a second click asks for nothing more)."""
    ids = [branch_id] if branch_id is not None else reconcilable_branches(session)
    if not ids:
        raise ValidationError("Nenhuma filial ativa tem integração com o bureau.", code="no_integration")
    out = []
    for b in ids:
        waiting = session.scalar(select(ReconciliationRun).where(
            ReconciliationRun.branch_id == b, ReconciliationRun.status.in_(("queued", "running"))).limit(1))
        out.append(waiting if waiting is not None else queue_run(session, actor, b, trigger=trigger))
    return out


def reconcilable_branches(session: Session) -> list[int]:
    return list(session.scalars(select(Branch.id).where(
        Branch.active.is_(True), Branch.bureau_integration_id.is_not(None)).order_by(Branch.id)))


def run_branch(services, actor: audit.Actor, branch_id: int, *, trigger: str = "cli", run_id: int | None = None,
               scheduled_for: dt.date | None = None, progress: Progress | None = None) -> RunSummary:
    """Run now, under the branch's lease: resume its interrupted run if there is one, else carry out
    the queued run `run_id`, else start a new one."""
    try:
        with held_with_heartbeat(services.session_factory, lease_name(branch_id)):
            run_id = _claim_run(services, actor, branch_id, trigger, run_id, scheduled_for)
            return _execute(services, run_id, progress)
    except LockBusy:
        return RunSummary(None, branch_id, "busy", message=STATUS_LABELS["busy"])


def _claim_run(services, actor, branch_id, trigger, run_id, scheduled_for) -> int:
    with transaction(services.session_factory) as s:
        if s.get(Branch, branch_id) is None:
            raise NotFound("Filial não encontrada.")
        orphan = s.scalar(select(ReconciliationRun).where(
            ReconciliationRun.branch_id == branch_id, ReconciliationRun.status == "running")
            .order_by(ReconciliationRun.id).limit(1))
        if orphan is not None:
            # We hold the lease, so its runner is gone (killed): carry on from its cursor.
            orphan.resumed += 1
            log.info("reconciliation run %s resumed after entry %s", orphan.id, orphan.cursor)
            return orphan.id
        run = s.get(ReconciliationRun, run_id) if run_id else None
        if run is None or run.status != "queued":
            run = ReconciliationRun(branch_id=branch_id, trigger=trigger, requested_by=actor.name[:80],
                                    requested_by_id=actor.user_id, scheduled_for=scheduled_for, counts={})
            s.add(run)
        run.status, run.started_at = "running", now_utc()
        run.rate_per_s = pace_for(s, branch_id, services.config)
        run.total = s.scalar(select(func.count()).select_from(candidates(branch_id, run.started_at).subquery()))
        s.flush()
        return run.id


def _execute(services, run_id: int, progress: Progress | None) -> RunSummary:
    with services.session_factory() as s:
        run = s.get(ReconciliationRun, run_id)
        branch = s.get(Branch, run.branch_id)
        integration, branch_id, started = branch.integration, branch.id, run.started_at
        rate, total, done = run.rate_per_s or DEFAULT_RATE_PER_S, run.total, run.checked + run.skipped + run.errors
    if integration is None:
        return _finish(services, run_id, "skipped", "A filial não tem integração com o bureau.")
    bureau = PacedBureau(services.bureau_for(integration), TokenBucket(rate))

    def record(s: Session, result: CheckResult) -> None:
        run = s.get(ReconciliationRun, run_id)
        run.cursor = max(run.cursor, result.negativation_id)
        if result.outcome == "checked":
            run.checked += 1
        elif result.outcome == "skipped":
            run.skipped += 1
        else:
            run.errors += 1
        if result.kinds:
            counts = dict(run.counts or {})
            for kind in result.kinds:
                counts[kind] = int(counts.get(kind, 0)) + 1
            run.counts = counts  # a new dict: JSON columns do not track changes inside
        run.opened += len(result.opened)
        run.closed += result.closed

    try:
        while True:
            with services.session_factory() as s:
                cursor = s.get(ReconciliationRun, run_id).cursor
                ids = s.scalars(candidates(branch_id, started, cursor).limit(BATCH)).all()
            if not ids:
                break
            for neg_id in ids:
                check_one(services, bureau, neg_id, run_id=run_id, on_recorded=record)
                done += 1
                if progress:
                    progress(min(done, max(total, done)), max(total, done))
    except Exception as exc:  # the results so far are committed; the run says why it stopped
        log.exception("reconciliation run %s failed", run_id)
        return _finish(services, run_id, "failed", f"Falha inesperada: {type(exc).__name__}: {exc}"[:500])
    return _finish(services, run_id, "done", None)


def _finish(services, run_id: int, status: str, message: str | None) -> RunSummary:
    with transaction(services.session_factory) as s:
        run = s.get(ReconciliationRun, run_id)
        run.status, run.finished_at = status, now_utc()
        if message:
            run.message = message[:500]
        elif run.errors:
            run.message = (f"{run.errors} entrada(s) sem resposta do bureau; serão verificadas na próxima "
                           "conciliação.")
        audit.record(s, audit.Actor.system("conciliação"), "reconciliation.run", "reconciliation_run", run.id,
                     branch_id=run.branch_id, summary=f"Conciliação nº {run.id}: {run.checked} verificadas, "
                     f"{run.divergent} divergências vistas, {run.opened} abertas, {run.closed} fechadas",
                     details={"counts": run.counts, "checked": run.checked, "errors": run.errors})
        return RunSummary(run.id, run.branch_id, status, run.total, run.checked, dict(run.counts or {}),
                          run.message or "")


# --------------------------------------------------------------------------- the scheduler's side

def run_time_today(config: dict, today: dt.date) -> dt.datetime:
    raw = str(config.get("RECONCILIATION_TIME") or DEFAULT_RUN_TIME)
    try:
        at = dt.time.fromisoformat(raw)
    except ValueError:
        # A typo in the setting must not stop the daily run: the default hour, and a line in the log.
        log.warning("RECONCILIATION_TIME=%r is not HH:MM; using %s", raw, DEFAULT_RUN_TIME)
        at = dt.time.fromisoformat(DEFAULT_RUN_TIME)
    return dt.datetime.combine(today, at, BR_TZ)


def due_branches(session: Session, config: dict, now: dt.datetime) -> list[tuple[int, dt.date, str]]:
    """(branch, business date, trigger) of the daily runs due and not yet made today."""
    local = now.astimezone(BR_TZ)
    at = run_time_today(config, local.date())
    if local < at:
        return []
    out = []
    for branch_id in reconcilable_branches(session):
        made = session.scalar(select(ReconciliationRun.id).where(
            ReconciliationRun.branch_id == branch_id, ReconciliationRun.scheduled_for == local.date()).limit(1))
        if made is None:
            out.append((branch_id, local.date(), "scheduled" if local - at <= dt.timedelta(minutes=5) else "catch_up"))
    return out


def tick(services, now: dt.datetime | None = None) -> list[RunSummary]:
    """Every half minute: resume killed runs, carry out queued ones, start the daily ones when due."""
    now = now or now_utc()
    system = audit.Actor.system("conciliação")
    with services.session_factory() as s:
        pending = s.execute(select(ReconciliationRun.id, ReconciliationRun.branch_id, ReconciliationRun.status,
                                   ReconciliationRun.requested_by, ReconciliationRun.requested_by_id)
                            .where(ReconciliationRun.status.in_(("running", "queued")))
                            .order_by(ReconciliationRun.id)).all()
        due = due_branches(s, services.config, now)
    out: list[RunSummary] = []
    for row in pending:
        actor = audit.Actor(name=row.requested_by, user_id=row.requested_by_id, role="system")
        out.append(run_branch(services, actor, row.branch_id, trigger="manual",
                              run_id=row.id if row.status == "queued" else None))
    for branch_id, day, trigger in due:
        out.append(run_branch(services, system, branch_id, trigger=trigger, scheduled_for=day))
    return out
