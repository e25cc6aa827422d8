"""Status and limit updates to the B2B commerce platform: delivery of the outbox (rule 21).

The rows are written by `app.services.credit.platform_updates.queue_update` in the transaction of
the change they report. `deliver_pending` (the `commerce_outbox` job) claims due rows one by one,
calls the platform OUTSIDE any database transaction, then records the attempt in a new one;
failures are retried with capped exponential backoff through `next_attempt_at`. Each attempt is
sent with the same Idempotency-Key, so a retry after a lost answer is not applied twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from app.db import transaction
from app.models import DeliveryLog, OutboundUpdate
from app.models.commerce import UpdateStatus
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import Conflict, NotFound
from app.services.credit.policy import platform_secret, policy_for

log = logging.getLogger("creditdesk.commerce")

MAX_ATTEMPTS = 10
BACKOFF_BASE_S = 30
BACKOFF_CAP_S = 3600
CLAIM_TTL = dt.timedelta(minutes=2)  # a crash mid-call leaves the row to be retried after this


def backoff(attempt: int, rng: random.Random | None = None) -> dt.timedelta:
    """30 s, 60 s, 120 s … capped at one hour, plus up to 10 % jitter."""
    base = min(BACKOFF_BASE_S * 2 ** max(0, attempt - 1), BACKOFF_CAP_S)
    return dt.timedelta(seconds=base * (1 + (rng or random).random() * 0.1))


@dataclass
class DeliverySummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (f"enviadas={self.sent} a_reenviar={self.retrying} falharam={self.failed} "
                f"ignoradas={self.skipped}")


def deliver_pending(services, *, now: dt.datetime | None = None, limit: int = 200,
                    platform=None) -> DeliverySummary:
    """Deliver due pending updates, oldest first; one item's failure never stops the batch."""
    now = now or now_utc()
    platform = platform or services.commerce_platform()
    summary = DeliverySummary()
    with transaction(services.session_factory) as s:
        ids = s.scalars(
            select(OutboundUpdate.id)
            .where(OutboundUpdate.status == UpdateStatus.PENDING.value, OutboundUpdate.next_attempt_at <= now)
            .order_by(OutboundUpdate.id).limit(limit)
        ).all()
    for update_id in ids:
        try:
            outcome = _deliver_one(services, platform, update_id, now)
        except Exception:  # noqa: BLE001 - one update's failure never stops the others; it is logged
            log.exception("commerce update %s could not be processed", update_id)
            outcome = "skipped"
        setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary


def _deliver_one(services, platform, update_id: int, now: dt.datetime) -> str:
    with transaction(services.session_factory) as s:
        claimed = s.execute(
            update(OutboundUpdate)
            .where(OutboundUpdate.id == update_id, OutboundUpdate.status == UpdateStatus.PENDING.value,
                   OutboundUpdate.next_attempt_at <= now)
            .values(next_attempt_at=now + CLAIM_TTL)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return "skipped"  # another runner took it, or it was superseded meanwhile
        row = s.get(OutboundUpdate, update_id)
        policy = policy_for(s, row.branch_id)
        url = policy.platform_url
        secret = platform_secret(policy, services.box)
        payload = {**row.payload, "update_id": row.id}
        attempt = row.attempts + 1
    if not url or not secret:
        from integrations.commerce.port import DeliveryResult

        result = DeliveryResult(False, error="URL ou segredo da plataforma não configurados na política de "
                                             "crédito da filial.", retryable=False)
    else:
        result = platform.send_update(url, secret, payload, idempotency_key=f"credit-desk-update-{update_id}")
    with transaction(services.session_factory) as s:
        row = s.get(OutboundUpdate, update_id)
        row.attempts = attempt
        s.add(DeliveryLog(update_id=update_id, attempt=attempt, at=now_utc(), url=(url or "—")[:300],
                          ok=result.ok, http_status=result.http_status, duration_ms=result.duration_ms,
                          error=(result.error or None) and result.error[:500]))
        if result.ok:
            row.status, row.sent_at, row.last_error = UpdateStatus.SENT.value, now_utc(), None
            return "sent"
        row.last_error = (result.error or "falha")[:500]
        if not result.retryable or attempt >= MAX_ATTEMPTS:
            row.status = UpdateStatus.FAILED.value
            return "failed"
        row.next_attempt_at = now + backoff(attempt)
        return "retrying"


def retry_update(session: Session, actor: audit.Actor, update_id: int) -> OutboundUpdate:
    """Put a failed update back in the queue (after fixing the URL or secret, for example)."""
    row = session.get(OutboundUpdate, update_id)
    if row is None:
        raise NotFound("Atualização não encontrada.")
    if row.status != UpdateStatus.FAILED.value:
        raise Conflict("Somente atualizações com falha podem ser reenviadas.", code="not_failed")
    newer = session.scalar(select(func.count()).select_from(OutboundUpdate).where(
        OutboundUpdate.party_id == row.party_id, OutboundUpdate.kind == row.kind, OutboundUpdate.id > row.id))
    if newer:
        raise Conflict("Existe uma atualização mais recente deste cliente; reenviar esta deixaria a plataforma "
                       "com um valor antigo.", code="stale_update")
    row.status, row.attempts, row.next_attempt_at = UpdateStatus.PENDING.value, 0, now_utc()
    audit.record(session, actor, "commerce.retry_update", "commerce_update", row.id, branch_id=row.branch_id,
                 summary=f"Atualização #{row.id} recolocada na fila de envio")
    return row


def list_updates(session: Session, *, status: str | None = None, branch_id: int | None = None,
                 party_id: int | None = None, limit: int = 50, offset: int = 0) -> list[OutboundUpdate]:
    # The deliveries page names each update's customer: loaded with the page, not once per row.
    stmt = select(OutboundUpdate).options(joinedload(OutboundUpdate.party))
    if status:
        stmt = stmt.where(OutboundUpdate.status == status)
    if branch_id:
        stmt = stmt.where(OutboundUpdate.branch_id == branch_id)
    if party_id:
        stmt = stmt.where(OutboundUpdate.party_id == party_id)
    return list(session.scalars(stmt.order_by(OutboundUpdate.id.desc()).offset(offset).limit(limit)))


def recent_deliveries(session: Session, *, limit: int = 100, offset: int = 0) -> list[DeliveryLog]:
    return list(session.scalars(select(DeliveryLog).order_by(DeliveryLog.id.desc()).offset(offset).limit(limit)))
