"""The bureau call of inclusions: send the rows a chunk created, record their answers in one
transaction, and `send_inclusion` for a single `pending` row (the outbox's retries, a resend).

No transaction is held across a call (domain rules 1-8; `inclusion`'s docstring): the rows were
committed with their Idempotency-Keys before these functions run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.db import is_postgres, transaction
from app.models import BureauIntegration, Negativation
from app.models.negativations import NegativationStatus
from app.services.negativations import records as rec
from app.services.negativations.outcomes import (
    CLAIM,
    Outcome,
    apply_receipt,
    claim_for_call,
    fail,
    outcome,
    record_failure,
    record_failure_in,
)
from app.services.negativations.payload import request_from_payload
from app.services.negativations.removal import send_removal

log = logging.getLogger("creditdesk.negativations")


@dataclass
class Created:
    index: int
    negativation: Negativation
    integration: BureauIntegration | None
    request: object
    key: str
    audit: dict
    negativation_id: int = 0  # known once the row is flushed


def call_bureau(services, created: list[Created], results: list) -> list[tuple[Created, object]]:
    """Send each created row (no transaction open); returns (row, receipt or exception) to record.

    The rows are claimed for CLAIM from the create commit. Should a slow chunk approach that, the
    answers so far are recorded and the rest go through `send_inclusion` (which re-claims each row
    under its lock), so a row is never sent by this call after the outbox may have taken it."""
    started = time.monotonic()
    answers: list[tuple[Created, object]] = []
    bureaus: dict[int, object] = {}
    for i, row in enumerate(created):
        if row.integration is None:
            answers.append((row, None))
            continue
        if time.monotonic() - started > CLAIM.total_seconds() / 3:
            record_answers(services, answers, results)
            answers = []
            for late in created[i:]:
                try:
                    results[late.index] = send_inclusion(services, late.negativation_id, force=True)
                except Exception as exc:  # noqa: BLE001 - reported for that group; the outbox retries
                    results[late.index] = exc
            break
        try:
            bureau = bureaus.get(row.integration.id)
            if bureau is None:
                bureau = bureaus[row.integration.id] = services.bureau_for(row.integration)
        except Exception as exc:  # noqa: BLE001 - row stays pending and claimed; the outbox retries it
            results[row.index] = exc
            continue
        try:
            answers.append((row, bureau.negativate(row.request, row.key)))
        except Exception as exc:  # noqa: BLE001 - any failure is recorded; unknown ones are retried
            answers.append((row, exc))
    return answers


def record_answers(services, answers: list[tuple[Created, object]], results: list) -> None:
    """Record a chunk's answers in one transaction (one flush), then send the removals of
    rows paid while their inclusion was in flight."""
    if not answers:
        return
    removals: list[Created] = []
    try:
        with transaction(services.session_factory) as s:
            # The titles come with the rows: `move_to` sets their live flag, and a lazy load per row would
            # also autoflush the previous row's changes, one UPDATE and two INSERTs per row instead of
            # one batch per table at commit.
            stmt = (select(Negativation).options(selectinload(Negativation.titles))
                    .where(Negativation.id.in_(sorted(r.negativation_id for r, _ in answers))))
            if is_postgres(s):
                stmt = stmt.with_for_update()
            rows = {n.id: n for n in s.scalars(stmt)}
            # No SAVEPOINT per row: one flush for the chunk. Any failure rolls the whole recording back
            # and leaves every row `pending` and claimed: the outbox resends each with its SAME key.
            for row, answer in answers:
                results[row.index] = record_answer(s, rows[row.negativation_id], answer)
                received = answer is not None and not isinstance(answer, Exception)
                if received and results[row.index].status == NegativationStatus.REMOVAL_PENDING.value:
                    removals.append(row)
    except Exception as exc:  # noqa: BLE001 - nothing recorded: the outbox retries with the same keys
        log.exception("recording the bureau's answers for %d negativation(s) failed", len(answers))
        for row, _ in answers:
            results[row.index] = exc
        return
    for row in removals:  # paid while the inclusion was in flight
        try:
            results[row.index] = send_removal(services, row.negativation_id, force=True)
        except Exception as exc:  # noqa: BLE001
            results[row.index] = exc


def record_answer(s, neg: Negativation, answer) -> Outcome:
    if answer is None:
        fail(s, neg, "no_integration", "A filial não tem integração com o bureau.", permanent=True)
        return outcome(neg, ok=False)
    if isinstance(answer, Exception):
        return record_failure_in(s, neg, answer, removal=False)
    if answer.status == "rejected":
        fail(s, neg, "rejected", "O bureau recusou a negativação.", permanent=True)
        return outcome(neg, ok=False)
    apply_receipt(s, neg, answer)
    return outcome(neg)



def send_inclusion(services, negativation_id: int, *, force: bool = False) -> Outcome:
    """Call the bureau for a `pending` row (retry or resend), always with its stored key."""
    with transaction(services.session_factory) as s:
        neg, integration, done = claim_for_call(s, negativation_id, NegativationStatus.PENDING, force,
                                                permanent_without_integration=True)
        if done is not None:
            return done
        neg.attempts += 1
        request, key = request_from_payload(neg.payload), neg.idempotency_key
        bureau = services.bureau_for(integration)
    try:
        receipt = bureau.negativate(request, key)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded; unknown ones are retried
        return record_failure(services, negativation_id, exc, removal=False)
    with transaction(services.session_factory) as s:
        result = record_answer(s, rec.lock_negativation(s, negativation_id), receipt)
    if result.status == NegativationStatus.REMOVAL_PENDING.value:
        return send_removal(services, negativation_id, force=True)  # paid while the inclusion was in flight
    return result
