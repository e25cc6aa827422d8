"""The collections routine ("Atualizar Cobranças", seed 003).

Per branch with everything on: select the titles overdue `days_to_execute` (>= 60) days or more
that every rule allows (one set-based SQL query, `eligibility.candidates_select`), negativate them
through the SAME service as the manual flow (`negativations.negativate_groups`, of which the manual
`negativate_titles` is a batch of one: it re-checks each title inside its transaction and writes the
outbox row before calling the bureau; chunks of groups share one transaction, a SAVEPOINT each), with
bounded concurrency and paced under the bureau's rate limit; then remove the entries whose titles
were paid, renegotiated, cancelled or reached prescription.

Exactly-once does not depend on the lease: the outbox row and the unique live-title index make a
second send of a title impossible. The lease (`collections:branch:<id>`) only keeps two runners from
doing the same work at once. A killed run leaves its titles either untouched (picked up by the next
run) or in a committed `pending` row (resent with the same Idempotency-Key by the outbox job).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import transaction
from app.models import Branch, CollectionPolicy, CollectionRun, CollectionRunItem, Party, Title
from app.models.base import utcnow
from app.services.collections import liveness
from app.services.collections.policy import blockers, policy_of
from app.services.core import audit
from app.services.core.clock import today_br
from app.services.core.errors import Conflict, DomainError, NotFound, ValidationError
from app.services.core.locks import LockBusy, held_with_heartbeat
from app.services.core.rate_limit import PacedBureau, TokenBucket
from app.services.negativations.eligibility import REASON_LABELS, Criteria, candidates_select
from app.services.negativations.policy import policy_for
from app.services.negativations.sending import due_removals, mark_due_removals, negativate_groups, send_removal
from app.services.settings import bureau_breaker as breaker
from integrations.bureau import CircuitOpen

log = logging.getLogger("creditdesk.collections")
SKIP_ITEMS_PER_REASON = 2000  # items kept per skip reason; the counts are always complete
ITEM_BATCH = 200
SEND_CHUNK = 50  # groups per create/record transaction of negativations.negativate_groups
SCHEDULED_TRIGGERS = ("scheduled", "catch_up")
Progress = Callable[[int, int], None]


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
        out.append(f"  Negativações {verb_in}: {c.get('included', 0)} ({c.get('titles_included', 0)} títulos); "
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


def select_candidates(session: Session, branch_id: int, criteria: Criteria):
    """Every overdue collectible title of the branch with its reason code (None = eligible): one query.
    Titles not yet due are left out here: they are not "skipped", just not due."""
    stmt = candidates_select(branch_id, criteria, policy_for(session, branch_id)).add_columns(
        Title.due_date).where(Title.due_date < criteria.today)
    return session.connection().execute(stmt).all()


def select_eligible(session: Session, branch_id: int, criteria: Criteria) -> list[tuple[int, int]]:
    """(title_id, party_id) of the eligible titles, by client then due date (the benchmark times this)."""
    from app.services.negativations.eligibility import eligible_titles_select

    stmt = eligible_titles_select(branch_id, criteria, policy_for(session, branch_id))
    # Core rows through the connection: the ORM result layer costs more than the query for 20k+ rows.
    return [tuple(r) for r in session.connection().execute(stmt)]


def branches_to_run(session: Session, branch_id: int | None) -> list[int]:
    if branch_id is not None:
        if session.get(Branch, branch_id) is None:
            raise NotFound("Filial não encontrada.")
        return [branch_id]
    stmt = (select(Branch.id).join(CollectionPolicy, CollectionPolicy.branch_id == Branch.id)
            .where(Branch.active.is_(True), CollectionPolicy.enabled.is_(True)).order_by(Branch.id))
    return list(session.scalars(stmt))


def run_collections(services, actor: audit.Actor, *, branch_id: int | None = None, dry_run: bool = False,
                    trigger: str = "manual", today: dt.date | None = None,
                    scheduled_for: dt.date | None = None, progress: Progress | None = None) -> list[RunSummary]:
    """Run (or simulate) the routine for one branch, or for every branch with the routine on."""
    with services.session_factory() as s:
        ids = branches_to_run(s, branch_id)
    if not ids:
        raise ValidationError("Nenhuma filial está com a rotina de cobrança ligada.", code="no_branch_enabled")
    return [run_branch(services, actor, b, dry_run=dry_run, trigger=trigger, today=today,
                       scheduled_for=scheduled_for, progress=progress) for b in ids]


def run_branch(services, actor: audit.Actor, branch_id: int, *, dry_run: bool = False, trigger: str = "manual",
               today: dt.date | None = None, scheduled_for: dt.date | None = None,
               progress: Progress | None = None, run_id: int | None = None) -> RunSummary:
    """Run one branch now. `run_id`: a queued run (from "Executar agora") to carry out."""
    today = today or today_br()
    with transaction(services.session_factory) as s:
        branch = s.get(Branch, branch_id)
        if branch is None:
            raise NotFound("Filial não encontrada.")
        policy = policy_of(s, branch_id)
        blocked = blockers(policy, branch, scheduled=trigger in SCHEDULED_TRIGGERS)
        days, name = policy.days_to_execute, branch.name
    run = _RunSpec(branch_id, name, days, today, trigger, scheduled_for, dry_run, run_id)
    if dry_run:
        return _execute(services, actor, run, progress)
    if blocked:
        return _record_unrun(services, actor, run, "skipped", " ".join(blocked))
    liveness.reap(services, branch_id)  # a run whose process is gone must not block this one
    for _ in range(2):  # a second try only after freeing the lease of a runner that exited
        try:
            with held_with_heartbeat(services.session_factory, liveness.lease_name(branch_id), liveness.RUN_LEASE_TTL):
                _close_interrupted_runs(services, branch_id, keep=run_id)
                return _execute(services, actor, run, progress)
        except LockBusy:
            if not liveness.free_dead_lease(services, branch_id):
                break
    return _record_unrun(services, actor, run, "busy",
                         "Outra execução da rotina está em andamento para esta filial; nada foi feito.")


@dataclass(frozen=True)
class _RunSpec:
    branch_id: int
    branch_name: str
    days: int
    today: dt.date
    trigger: str
    scheduled_for: dt.date | None
    dry_run: bool
    run_id: int | None = None


def _open_run(s: Session, actor: audit.Actor, spec: _RunSpec, status: str) -> CollectionRun:
    run = s.get(CollectionRun, spec.run_id) if spec.run_id else None
    if run is None:
        run = CollectionRun(branch_id=spec.branch_id, trigger=spec.trigger, dry_run=spec.dry_run,
                            requested_by=actor.name, requested_by_id=actor.user_id,
                            scheduled_for=spec.scheduled_for, days_to_execute=spec.days)
        s.add(run)
    run.status, run.days_to_execute, run.started_at = status, spec.days, utcnow()
    s.flush()
    return run


def _record_unrun(services, actor, spec: _RunSpec, status: str, message: str) -> RunSummary:
    with transaction(services.session_factory) as s:
        run = _open_run(s, actor, spec, status)
        run.finished_at, run.message = utcnow(), message[:500]
        run_id = run.id
    return RunSummary(run_id, spec.branch_id, spec.branch_name, False, status, message=message)


def queue_run(session: Session, actor: audit.Actor, branch_id: int) -> CollectionRun:
    """"Executar agora" from the web or the API: the scheduler process picks it up within a minute,
    so a long run never ties up a web worker. The caller commits."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("Filial não encontrada.")
    policy = policy_of(session, branch_id)
    blocked = blockers(policy, branch, scheduled=False)
    if blocked:
        raise ValidationError("A rotina não pode ser executada: " + " ".join(blocked), code="collections_blocked")
    liveness.reap_dead_runs(session, branch_id)  # a run whose process is gone never blocks "Executar agora"
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


def run_queued(services, today: dt.date | None = None) -> list[RunSummary]:
    """Carry out the queued manual runs, oldest first (scheduler tick)."""
    with services.session_factory() as s:
        queued = s.execute(select(CollectionRun.id, CollectionRun.branch_id, CollectionRun.requested_by,
                                  CollectionRun.requested_by_id)
                           .where(CollectionRun.status == "queued").order_by(CollectionRun.id)).all()
    # The scheduler carries out the request on behalf of the user who queued it (role checked then).
    return [run_branch(services, audit.Actor(name=r.requested_by, user_id=r.requested_by_id, role="system"),
                       r.branch_id, trigger="manual", today=today, run_id=r.id) for r in queued]


def _close_interrupted_runs(services, branch_id: int, keep: int | None = None) -> None:
    """We hold the branch lease: any other run still marked running was killed mid-way."""
    with transaction(services.session_factory) as s:
        now = utcnow()
        for run in s.scalars(select(CollectionRun).where(
                CollectionRun.branch_id == branch_id, CollectionRun.status == "running",
                CollectionRun.dry_run.is_(False), CollectionRun.id != (keep or 0))).all():
            liveness.mark_interrupted(s, run, now, now)


class _Items:
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


def _execute(services, actor, spec: _RunSpec, progress) -> RunSummary:
    branch_id, days, today, dry_run = spec.branch_id, spec.days, spec.today, spec.dry_run
    criteria = Criteria(today, days, require_branch_code=True)
    with transaction(services.session_factory) as s:
        run_id = _open_run(s, actor, spec, "running").id
    summary = RunSummary(run_id, branch_id, spec.branch_name, dry_run, "running")
    items = _Items(services, run_id)
    counts: Counter[str] = Counter()
    try:
        with services.session_factory() as s:
            rows = select_candidates(s, branch_id, criteria)
            policy = policy_of(s, branch_id)
            branch = s.get(Branch, branch_id)
            integration = branch.integration
            integration_id = integration.id if integration else None
            eligible = [(r.title_id, r.party_id) for r in rows if r.reason_code is None]
            party_kinds = _party_kinds(s, {p for _, p in eligible})
            grouping, concurrency, rate = policy.grouping, policy.max_concurrency, policy.rate_limit_per_s
            codes = {"CPF": integration.restriction_code_pf if integration else None,
                     "CNPJ": integration.restriction_code_pj if integration else None}
        skip_reasons = Counter(r.reason_code for r in rows if r.reason_code not in (None, "not_overdue"))
        kept: Counter[str] = Counter()
        for r in rows:
            code = r.reason_code
            if code in (None, "not_overdue") or kept[code] >= SKIP_ITEMS_PER_REASON:
                continue
            kept[code] += 1
            message = REASON_LABELS.get(code, code)
            if code == "too_recent":  # the 59/60-day boundary, in figures
                message = f"Vencido há {(today - r.due_date).days} dias; a rotina exige pelo menos {days}."
            items.add("skip", title_id=r.title_id, party_id=r.party_id, reason_code=code, message=message)
        groups = _group(eligible, grouping)
        total = len(groups)
        if dry_run:
            for party_id, title_ids in groups:
                counts["included"] += 1
                counts["titles_included"] += len(title_ids)
                for t in title_ids:
                    items.add("would_include", title_id=t, party_id=party_id)
            with services.session_factory() as s:
                for neg, reason in due_removals(s, today, branch_id):
                    counts["removed"] += 1
                    items.add("would_remove", party_id=neg.party_id, negativation_id=neg.id, reason_code=reason)
            if progress:
                progress(total, total)
        else:
            paced = _paced(services, rate)
            # One free call first: a bureau refusing the credentials stops the run before any row exists.
            halted = breaker.preflight(services, integration_id) if groups and integration_id else None
            if halted is None:
                _send_groups(paced, actor, groups, party_kinds, codes, days, today, items, counts, summary,
                             concurrency, progress, integration_id)
            else:
                counts["not_sent"] += sum(len(title_ids) for _, title_ids in groups)
            _send_removals(paced, branch_id, today, items, counts, summary)
            halted = halted or (breaker.read_now(services.session_factory, integration_id) if counts["not_sent"]
                                else None)
            if halted is not None and halted.is_open:
                summary.status = "halted"
                summary.message = (f"{halted.headline}: envio suspenso; {counts['not_sent']} título(s) não "
                                   "enviado(s) ficaram intactos e serão enviados quando o bureau voltar a aceitar "
                                   "as chamadas.")
        summary.counts = {k: counts.get(k, 0) for k in ("included", "titles_included", "removed", "pending",
                                                        "errors", "changed", "not_sent")}
        summary.counts["skipped"] = sum(skip_reasons.values())
        summary.skip_reasons = dict(skip_reasons)
        summary.status = "halted" if summary.status == "halted" else "done"
    except Exception as exc:  # the run is recorded as failed; the negativations already sent are safe
        log.exception("collections run %s failed", run_id)
        summary.status = "failed"
        summary.errors.append(f"Falha inesperada: {exc.__class__.__name__}: {exc}"[:300])
    finally:
        items.flush()
        with transaction(services.session_factory) as s:
            run = s.get(CollectionRun, run_id)
            run.status, run.finished_at = summary.status, utcnow()
            run.counts, run.skip_reasons, run.errors = summary.counts, summary.skip_reasons, summary.errors[:100]
            if summary.message:
                run.message = summary.message[:500]
            if not dry_run:
                audit.record(s, actor, "collections.run", "collection_run", run_id, branch_id=branch_id,
                             summary=f"Rotina de cobrança ({spec.trigger}): {summary.counts.get('included', 0)} "
                                     f"inclusões, {summary.counts.get('removed', 0)} baixas",
                             details={"counts": summary.counts})
    return summary


def _party_kinds(s: Session, party_ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    ids = sorted(party_ids)
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        out.update(dict(s.execute(select(Party.id, Party.document_kind).where(Party.id.in_(chunk))).all()))
    return out


def _group(eligible: list[tuple[int, int]], grouping: str) -> list[tuple[int, list[int]]]:
    if grouping == "title":
        return [(party_id, [title_id]) for title_id, party_id in eligible]
    by_party: dict[int, list[int]] = defaultdict(list)
    for title_id, party_id in eligible:
        by_party[party_id].append(title_id)
    return list(by_party.items())


def _paced(services, rate: int | None):
    """The run's services: one bureau client per worker thread and integration (its token stays in
    memory for the run instead of being read from the database for every call), paced by one bucket."""
    bucket = TokenBucket(rate) if rate else None
    base = services.bureau_factory
    local = threading.local()

    def factory(integration):
        clients = local.__dict__.setdefault("clients", {})
        client = clients.get(integration.id)
        if client is None:
            client = base(integration)
            if bucket is not None:
                client = PacedBureau(client, bucket)
            clients[integration.id] = client
        return client

    return replace(services, bureau_factory=factory)


def _chunks(groups: list, concurrency: int) -> list[list]:
    """Chunks of at most SEND_CHUNK groups, small enough that every worker gets several (a small run
    still goes group by group in steps, and the last chunks do not leave workers idle).

    The workers' FIRST chunks are staggered (1, 2, ... groups): a worker writes its whole chunk before
    its first bureau call, and workers paced by one shared bucket finish their chunks together; equal
    first chunks would make every worker write at once, again and again, with the bureau idle
    meanwhile (~1 s each time for 16 x 32 groups on PostgreSQL). Staggered, one worker writes while
    the others keep sending."""
    workers = max(1, concurrency)
    size = max(1, min(SEND_CHUNK, -(-len(groups) // (4 * workers))))
    out, start = [], 0
    for k in range(workers):
        if start >= len(groups):
            break
        step = min(size, k + 1)
        out.append(groups[start:start + step])
        start += step
    return out + [groups[i:i + size] for i in range(start, len(groups), size)]


def _send_groups(services, actor, groups, party_kinds, codes, days, today, items, counts, summary, concurrency,
                 progress, integration_id=None) -> None:
    def chunk_of(chunk: list[tuple[int, list[int]]]):
        if integration_id is not None:
            # The breaker opened mid-run: the rest of the titles stay untouched (no row is created).
            state = breaker.read_now(services.session_factory, integration_id)
            if state is not None and state.is_open:
                return [state.error()] * len(chunk)
        batch = [(party_id, title_ids, codes.get(party_kinds.get(party_id, ""))) for party_id, title_ids in chunk]
        return negativate_groups(services, actor, batch, origin="routine", today=today, min_days_overdue=days)

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="collections") as pool:
        futures = {pool.submit(chunk_of, chunk): chunk for chunk in _chunks(groups, concurrency)}
        for future in as_completed(futures):
            chunk = futures[future]
            try:
                results = future.result()
            except Exception as exc:  # noqa: BLE001 - the whole chunk failed (e.g. the database): one error each
                results = [exc] * len(chunk)
            for (party_id, title_ids), result in zip(chunk, results, strict=True):
                done += 1
                _record_group(party_id, title_ids, result, items, counts, summary)
                if progress:
                    progress(done, len(groups))


def _record_group(party_id, title_ids, result, items, counts, summary) -> None:
    if isinstance(result, CircuitOpen):
        counts["not_sent"] += len(title_ids)  # no row was created: the next run sends them
    elif isinstance(result, (Conflict, ValidationError)):
        # The title changed since the selection (paid, negativated by hand...): skipped, not an error.
        counts["changed"] += 1
        for t in title_ids:
            items.add("skip", title_id=t, party_id=party_id, reason_code="changed", message=result.message)
    elif isinstance(result, DomainError):
        counts["errors"] += 1
        summary.errors.append(result.message)
        for t in title_ids:
            items.add("error", title_id=t, party_id=party_id, message=result.message)
    elif isinstance(result, Exception):  # one title's failure never stops the run
        log.error("negativation of titles %s failed", title_ids, exc_info=result)
        counts["errors"] += 1
        summary.errors.append(f"Títulos {title_ids}: {result.__class__.__name__}")
        for t in title_ids:
            items.add("error", title_id=t, party_id=party_id, message=str(result))
    else:
        action = {"error": "error", "pending": "pending"}.get(result.status, "include")
        key = {"include": "included", "pending": "pending", "error": "errors"}[action]
        counts[key] += 1
        if action != "error":
            counts["titles_included"] += len(title_ids)
        else:
            summary.errors.append(result.message)
        for t in title_ids:
            items.add(action, title_id=t, party_id=party_id, negativation_id=result.negativation_id,
                      message=result.message)


def _send_removals(services, branch_id, today, items, counts, summary) -> None:
    for neg_id, reason in mark_due_removals(services, today, branch_id):
        try:
            outcome = send_removal(services, neg_id, force=True)
        except Exception as exc:
            log.exception("removal of negativation %s failed", neg_id)
            summary.errors.append(f"Baixa {neg_id}: {exc.__class__.__name__}")
            counts["errors"] += 1
            items.add("error", negativation_id=neg_id, reason_code=reason, message=str(exc))
            continue
        if outcome.status == "removed":
            counts["removed"] += 1
            items.add("remove", negativation_id=neg_id, reason_code=reason, message=outcome.message)
        else:
            counts["pending"] += 1  # stays removal_pending; the sweep resends with the same key
            items.add("pending", negativation_id=neg_id, reason_code=reason, message=outcome.message)

