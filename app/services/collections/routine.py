"""The collections routine ("Atualizar Cobranças"): select, negativate, remove, per branch.

Per branch with everything on: select the titles overdue `days_to_execute` (>= 60) days or more
that every rule allows (one set-based SQL query, `eligibility.candidates_select`), negativate them
through the SAME service as the manual flow (`negativations.inclusion.negativate_groups`, of which the manual
`negativate_titles` is a batch of one: it re-checks each title inside its transaction and writes the
outbox row before calling the bureau; chunks of groups share one transaction, a SAVEPOINT each), with
bounded concurrency and paced under the bureau's rate limit; then remove the entries whose titles
were paid, renegotiated, cancelled or reached prescription.

Exactly-once does not depend on the lease: the outbox row and the unique live-title index make a
second send of a title impossible. The lease (`collections:branch:<id>`) only keeps two runners from
doing the same work at once. A killed run leaves its titles either untouched (picked up by the next
run) or in a committed `pending` row (resent with the same Idempotency-Key by the outbox job).

The run's row, items and summary are kept by `run_records`; the sending itself is `dispatch`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import transaction
from app.models import Branch, CollectionPolicy, CollectionRun, Party, Title
from app.models.base import utcnow
from app.models.titles import COLLECTIBLE_STATUSES
from app.services.collections import liveness
from app.services.collections import policy as collection_policy
from app.services.collections.dispatch import paced_services, send_groups, send_removals
from app.services.collections.run_records import (
    RunItems,
    RunSpec,
    RunSummary,
    close_interrupted_runs,
    open_run,
    record_unrun,
)
from app.services.core import audit
from app.services.core.clock import start_of_day_br, today_br
from app.services.core.errors import NotFound, ValidationError
from app.services.core.locks import LockBusy, held_with_heartbeat
from app.services.negativations import policy as negativation_policy
from app.services.negativations.eligibility import REASON_LABELS, Criteria, candidates_select, hold_message
from app.services.negativations.outbox import due_removals
from app.services.settings import bureau_breaker as breaker

log = logging.getLogger("creditdesk.collections")
HELD_CLOSED_SHOWN_DAYS = 60  # a title renegotiated by a removal by hand shows as skipped this long
SKIP_ITEMS_PER_REASON = 2000  # items kept per skip reason; the counts are always complete
SCHEDULED_TRIGGERS = ("scheduled", "catch_up")
Progress = Callable[[int, int], None]


def select_candidates(session: Session, branch_id: int, criteria: Criteria):
    """Every overdue collectible title of the branch with its reason code (None = eligible): one query.
    Titles not yet due are left out here: they are not "skipped", just not due."""
    stmt = candidates_select(branch_id, criteria, negativation_policy.policy_for(session, branch_id)).add_columns(
        Title.due_date, Title.hold_at, Title.hold_reason).where(Title.due_date < criteria.today)
    # Titles renegotiated by a removal by hand (rule 10) are no longer collectible, but a person who
    # just made the agreement expects to see them skipped, with the day of the removal, for a while.
    since = start_of_day_br(criteria.today - dt.timedelta(days=HELD_CLOSED_SHOWN_DAYS))
    held = (select(Title.id.label("title_id"), Title.party_id, Title.status.label("reason_code"), Title.due_date,
                   Title.hold_at, Title.hold_reason)
            .where(Title.branch_id == branch_id, Title.hold_at >= since, ~Title.status.in_(COLLECTIBLE_STATUSES),
                   Title.due_date < criteria.today))
    connection = session.connection()
    return connection.execute(stmt).all() + connection.execute(held).all()


def select_eligible(session: Session, branch_id: int, criteria: Criteria) -> list[tuple[int, int]]:
    """(title_id, party_id) of the eligible titles, by client then due date (the benchmark times this)."""
    from app.services.negativations.eligibility import eligible_titles_select

    stmt = eligible_titles_select(branch_id, criteria, negativation_policy.policy_for(session, branch_id))
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
        policy = collection_policy.policy_for(s, branch_id)
        blocked = collection_policy.blockers(policy, branch, scheduled=trigger in SCHEDULED_TRIGGERS)
        days, name = policy.days_to_execute, branch.name
    run = RunSpec(branch_id, name, days, today, trigger, scheduled_for, dry_run, run_id)
    if dry_run:
        return _execute(services, actor, run, progress)
    if blocked:
        return record_unrun(services, actor, run, "skipped", " ".join(blocked))
    liveness.reap(services, branch_id)  # a run whose process is gone must not block this one
    for _ in range(2):  # a second try only after freeing the lease of a runner that exited
        try:
            with held_with_heartbeat(services.session_factory, liveness.lease_name(branch_id),
                                     liveness.RUN_LEASE_TTL):
                close_interrupted_runs(services, branch_id, keep=run_id)
                return _execute(services, actor, run, progress)
        except LockBusy:
            if not liveness.free_dead_lease(services, branch_id):
                break
    return record_unrun(services, actor, run, "busy",
                        "Outra execução da rotina está em andamento para esta filial; nada foi feito.")


def run_queued(services, today: dt.date | None = None) -> list[RunSummary]:
    """Carry out the queued manual runs, oldest first (scheduler tick)."""
    with services.session_factory() as s:
        queued = s.execute(select(CollectionRun.id, CollectionRun.branch_id, CollectionRun.requested_by,
                                  CollectionRun.requested_by_id)
                           .where(CollectionRun.status == "queued").order_by(CollectionRun.id)).all()
    # The scheduler carries out the request on behalf of the user who queued it (role checked then).
    return [run_branch(services, audit.Actor(name=r.requested_by, user_id=r.requested_by_id, role="system"),
                       r.branch_id, trigger="manual", today=today, run_id=r.id) for r in queued]


def _execute(services, actor, spec: RunSpec, progress) -> RunSummary:
    branch_id, days, today, dry_run = spec.branch_id, spec.days, spec.today, spec.dry_run
    criteria = Criteria(today, days, require_branch_code=True)
    with transaction(services.session_factory) as s:
        run_id = open_run(s, actor, spec, "running").id
    summary = RunSummary(run_id, branch_id, spec.branch_name, dry_run, "running")
    items = RunItems(services, run_id)
    counts: Counter[str] = Counter()
    try:
        with services.session_factory() as s:
            rows = select_candidates(s, branch_id, criteria)
            policy = collection_policy.policy_for(s, branch_id)
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
            elif r.hold_at is not None:  # removed by hand: the reason and the day of the removal
                message = hold_message(r.hold_at, r.hold_reason) if code == "removed_by_hand" else (
                    f"{message} — {hold_message(r.hold_at, r.hold_reason)}")
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
            paced = paced_services(services, rate)
            # One free call first: a bureau refusing the credentials stops the run before any row exists.
            halted = breaker.preflight(services, integration_id) if groups and integration_id else None
            if halted is None:
                send_groups(paced, actor, groups, party_kinds, codes, days, today, items, counts, summary,
                            concurrency, progress, integration_id)
            else:
                counts["not_sent"] += sum(len(title_ids) for _, title_ids in groups)
            send_removals(paced, branch_id, today, items, counts, summary)
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
