"""Sending a run's work to the bureau: the eligible groups in chunks on a bounded pool of workers,
paced under the bureau's rate limit, then the due removals; each result becomes a run item.

One group's failure never stops the run: it is counted and recorded as an item, and the run goes on.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace

from app.services.collections.heap import older_objects_frozen
from app.services.core.errors import Conflict, DomainError, ValidationError
from app.services.core.rate_limit import PacedBureau, TokenBucket
from app.services.negativations.inclusion import negativate_groups
from app.services.negativations.outbox import mark_due_removals
from app.services.negativations.removal import send_removal
from app.services.settings import bureau_breaker as breaker
from integrations.bureau import CircuitOpen

log = logging.getLogger("creditdesk.collections")
SEND_CHUNK = 50  # groups per create/record transaction of negativations.inclusion.negativate_groups


def paced_services(services, rate: int | None):
    """The run's services: one bureau client per worker thread and integration (its token stays in
    memory for the run instead of being read from the database for every call), paced by one bucket
    (`core.rate_limit.TokenBucket`, one wake-up per call), and one cached view of the breakers
    (`bureau_breaker.StateCache`)."""
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

    # The breaker's state is read once a second for the whole run, not before every call.
    extras = {**services.extras, breaker.CACHE_KEY: breaker.StateCache(services.session_factory)}
    return replace(services, bureau_factory=factory, extras=extras)


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


def send_groups(services, actor, groups, party_kinds, codes, days, today, items, counts, summary, concurrency,
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
    with older_objects_frozen(), ThreadPoolExecutor(max_workers=max(1, concurrency),
                                                    thread_name_prefix="collections") as pool:
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


def send_removals(services, branch_id, today, items, counts, summary) -> None:
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
