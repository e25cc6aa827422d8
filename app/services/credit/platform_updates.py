"""The outbound updates a credit change owes the commerce platform (rule 21), written with it.

`queue_update` joins the caller's transaction, so an update exists if and only if the change it
reports was committed; `app.services.commerce.outbox` delivers them later.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import OutboundUpdate, Party
from app.models.commerce import UpdateKind, UpdateStatus
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.credit.policy import policy_for


def queue_update(session: Session, party: Party, kind: UpdateKind | str, payload: dict[str, Any],
                 actor: audit.Actor, *, force: bool = False) -> OutboundUpdate | None:
    """Add an update to the outbox in the caller's transaction; None when the branch has no platform,
    or when the platform already has (or is about to get) exactly this value, unless `force`.

    A pending older update of the same kind for the same client is superseded: only the newest
    value matters, and delivering an old one after a new one would leave the platform stale.
    """
    policy = policy_for(session, party.branch_id)
    if not policy.platform_url:
        return None
    kind = UpdateKind(kind).value
    if not force:
        last = session.scalar(select(OutboundUpdate).where(
            OutboundUpdate.party_id == party.id, OutboundUpdate.kind == kind,
            OutboundUpdate.status.in_((UpdateStatus.PENDING.value, UpdateStatus.SENT.value)))
            .order_by(OutboundUpdate.id.desc()).limit(1))
        if last is not None and last.payload == payload:
            return None
    session.execute(
        update(OutboundUpdate)
        .where(OutboundUpdate.party_id == party.id, OutboundUpdate.kind == kind,
               OutboundUpdate.status == UpdateStatus.PENDING.value)
        .values(status=UpdateStatus.SUPERSEDED.value, last_error="Substituída por uma atualização mais recente.")
        .execution_options(synchronize_session=False)
    )
    row = OutboundUpdate(branch_id=party.branch_id, party_id=party.id, kind=kind, payload=payload,
                         status=UpdateStatus.PENDING.value, attempts=0, next_attempt_at=now_utc(),
                         created_by=actor.name[:80])
    session.add(row)
    return row
