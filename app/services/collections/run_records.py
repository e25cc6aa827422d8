"""The record of collection runs: the run row and its items, the summary in pt-BR, the queue of runs
asked for by a person, and closing runs a killed process left `running`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import transaction
from app.models import Branch, CollectionRun, CollectionRunItem
from app.models.base import utcnow
from app.services.collections import liveness
from app.services.collections import policy as collection_policy
from app.services.core import audit
from app.services.core.errors import Conflict, NotFound, ValidationError
from app.services.negativations.eligibility import REASON_LABELS

ITEM_BATCH = 200


@dataclass
class RunSummary:
    run_id: int
    branch_id: int
    branch_name: str
    dry_run: bool
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    skip_reasons: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    message: str = ""

    def lines(self) -> list[str]:
        """The same summary for the CLI, the web page and logs, in pt-BR."""
        kind = "Simulação" if self.dry_run else "Execução"
        c = self.counts
        out = [f"{kind} nº {self.run_id} — {self.branch_name}: {STATUS_LABELS.get(self.status, self.status)}"]
        if self.message:
            out.append(f"  {self.message}")
        verb_in, verb_out = ("incluiria", "removeria") if self.dry_run else ("incluídas", "removidas")
        titles = c.get("titles_included", 0)
        out.append(f"  Negativações {verb_in}: {c.get('included', 0)} ({titles} título{'' if titles == 1 else 's'}); "
                   f"baixas {verb_out}: {c.get('removed', 0)}; pendentes de reenvio: {c.get('pending', 0)}; "
                   f"erros: {c.get('errors', 0)}")
        if c.get("not_sent"):
            out.append(f"  Títulos não enviados (bureau indisponível ou credenciais recusadas), intactos: "
                       f"{c['not_sent']}")
        for code, n in sorted(self.skip_reasons.items(), key=lambda kv: -kv[1]):
            out.append(f"  Ignorados — {REASON_LABELS.get(code, code)}: {n}")
        out.extend(f"  Erro: {e}" for e in self.errors[:10])
        return out


STATUS_LABELS = {"queued": "na fila", "running": "em andamento", "done": "concluída", "failed": "falhou",
                 "skipped": "não executada", "busy": "outra execução em andamento", "interrupted": "interrompida",
                 "halted": "suspensa pelo bureau"}


@dataclass(frozen=True)
class RunSpec:
    branch_id: int
    branch_name: str
    days: int
    today: dt.date
    trigger: str
    scheduled_for: dt.date | None
    dry_run: bool
    run_id: int | None = None


def open_run(s: Session, actor: audit.Actor, spec: RunSpec, status: str) -> CollectionRun:
    run = s.get(CollectionRun, spec.run_id) if spec.run_id else None
    if run is None:
        run = CollectionRun(branch_id=spec.branch_id, trigger=spec.trigger, dry_run=spec.dry_run,
                            requested_by=actor.name, requested_by_id=actor.user_id,
                            scheduled_for=spec.scheduled_for, days_to_execute=spec.days)
        s.add(run)
    run.status, run.days_to_execute, run.started_at = status, spec.days, utcnow()
    s.flush()
    return run


def record_unrun(services, actor, spec: RunSpec, status: str, message: str) -> RunSummary:
    with transaction(services.session_factory) as s:
        run = open_run(s, actor, spec, status)
        run.finished_at, run.message = utcnow(), message[:500]
        run_id = run.id
    return RunSummary(run_id, spec.branch_id, spec.branch_name, False, status, message=message)


def manual_run_blocker(session: Session, branch: Branch) -> str | None:
    """Why "Executar agora" would refuse this branch, in the words both Executar agora and Simular
    show (None when it may run)."""
    blocked = collection_policy.blockers(collection_policy.policy_for(session, branch.id), branch, scheduled=False)
    return "A rotina não pode ser executada: " + " ".join(blocked) if blocked else None


def queue_run(session: Session, actor: audit.Actor, branch_id: int) -> CollectionRun:
    """"Executar agora" from the web or the API: the scheduler process picks it up within a minute,
    so a long run never ties up a web worker. The caller commits."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("Filial não encontrada.")
    blocked = manual_run_blocker(session, branch)
    if blocked:
        raise ValidationError(blocked, code="collections_blocked")
    liveness.reap_dead_runs(session, branch_id)  # a run whose process is gone never blocks "Executar agora"
    policy = collection_policy.policy_for(session, branch_id)
    waiting = session.scalar(select(CollectionRun.id).where(
        CollectionRun.branch_id == branch_id, CollectionRun.status.in_(("queued", "running")),
        CollectionRun.dry_run.is_(False)).limit(1))
    if waiting is not None:
        raise Conflict(f"Já existe uma execução na fila ou em andamento para esta filial (nº {waiting}).",
                       code="collections_already_queued")
    run = CollectionRun(branch_id=branch_id, trigger="manual", dry_run=False, requested_by=actor.name,
                        requested_by_id=actor.user_id, status="queued", days_to_execute=policy.days_to_execute)
    session.add(run)
    session.flush()
    audit.record(session, actor, "collections.queue", "collection_run", run.id, branch_id=branch_id,
                 summary="Execução da rotina de cobrança solicitada")
    return run


def close_interrupted_runs(services, branch_id: int, keep: int | None = None) -> None:
    """We hold the branch lease: any other run still marked running was killed mid-way."""
    with transaction(services.session_factory) as s:
        now = utcnow()
        for run in s.scalars(select(CollectionRun).where(
                CollectionRun.branch_id == branch_id, CollectionRun.status == "running",
                CollectionRun.dry_run.is_(False), CollectionRun.id != (keep or 0))).all():
            liveness.mark_interrupted(s, run, now, now)


class RunItems:
    """Buffers run items and writes them in batches (one short transaction per batch)."""

    def __init__(self, services, run_id: int):
        self.services, self.run_id, self.buffer = services, run_id, []

    def add(self, action: str, *, title_id=None, party_id=None, negativation_id=None, reason_code=None,
            message=None) -> None:
        self.buffer.append({"run_id": self.run_id, "action": action, "title_id": title_id, "party_id": party_id,
                            "negativation_id": negativation_id, "reason_code": reason_code,
                            "message": (message or "")[:500] or None})
        if len(self.buffer) >= ITEM_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            with transaction(self.services.session_factory) as s:
                s.execute(CollectionRunItem.__table__.insert(), self.buffer)
            self.buffer = []
