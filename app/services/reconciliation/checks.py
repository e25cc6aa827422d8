"""Checking one entry against the bureau and recording what differs (habit 4: no transaction is open
while the bureau is called).

1. Read the entry (protocol, status) in a short session.
2. GET /v1/negativations/{protocol}, paced by the caller's bureau wrapper.
3. In ONE transaction: compare, open the new divergences (with their evidence and the
   `reconciliation.divergence_opened` event), refresh the ones still seen, close the ones a check
   no longer sees, and let the caller record its progress (a run's cursor) in the same commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import transaction
from app.models import Negativation
from app.models.reconciliation import DIVERGENCE_KIND_LABELS, Divergence, DivergenceKind
from app.services.core.clock import now_utc, to_br
from app.services.events import payloads
from app.services.events.emit import emit
from app.services.negativations import records as rec
from app.services.settings.bureau_messages import describe
from integrations.bureau import BureauError
from integrations.bureau import NotFound as BureauNotFound

from .kinds import BureauView, LocalView, classify

log = logging.getLogger("creditdesk.reconciliation")

CHECKED_STATUSES = ("pending", "notice", "active", "removal_pending", "removed")


@dataclass
class CheckResult:
    negativation_id: int
    outcome: str  # checked | skipped | error
    kinds: list[str] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    closed: int = 0
    message: str = ""


Recorder = Callable[[Session, CheckResult], None]


def local_view(neg: Negativation) -> LocalView:
    return LocalView(neg.status, neg.total_amount, neg.notice_until, neg.removal_requested_at, neg.removed_at,
                     neg.removal_deadline, tuple((nt.number, nt.title.status) for nt in neg.titles))


def read_bureau(bureau, protocol: str) -> BureauView:
    """The bureau's view; a 404 is an answer (unknown protocol), other failures raise."""
    try:
        return BureauView.of(bureau.negativation_status(protocol))
    except BureauNotFound as exc:
        return BureauView(found=False, message=f"HTTP 404: {exc.message}"[:300])


def check_one(services, bureau, negativation_id: int, *, run_id: int | None = None,
              on_recorded: Recorder | None = None) -> CheckResult:
    """Check one entry; `on_recorded(session, result)` runs in the transaction that records it."""
    with services.session_factory() as s:
        neg = s.get(Negativation, negativation_id)
        protocol, status = (neg.protocol, neg.status) if neg is not None else (None, None)
    if status not in CHECKED_STATUSES or not protocol:
        # A `pending` entry has no protocol until the outbox gets the bureau's receipt: nothing to read yet.
        message = "Sem protocolo ainda: a inclusão está na fila de reenvio." if status else "Negativação excluída."
        return _record(services, CheckResult(negativation_id, "skipped", message=message), on_recorded)
    try:
        view = read_bureau(bureau, protocol)
    except BureauError as exc:
        return _record(services, CheckResult(negativation_id, "error", message=describe(exc)), on_recorded)
    except Exception as exc:  # noqa: BLE001 - one entry never stops a run; the next run checks it again
        log.exception("reconciliation check of negativation %s failed", negativation_id)
        return _record(services, CheckResult(negativation_id, "error", message=type(exc).__name__), on_recorded)
    with transaction(services.session_factory) as s:
        neg = rec.lock_negativation(s, negativation_id)
        if neg is None or neg.status != status:
            # It moved while the bureau answered (a removal confirmed, say): compare at the next check.
            result = CheckResult(negativation_id, "skipped", message="A negativação mudou durante a verificação.")
        else:
            result = apply_view(s, neg, view, run_id=run_id)
        if on_recorded is not None:
            on_recorded(s, result)
        return result


def _record(services, result: CheckResult, on_recorded: Recorder | None) -> CheckResult:
    if on_recorded is not None:
        with transaction(services.session_factory) as s:
            on_recorded(s, result)
    return result


def apply_view(s: Session, neg: Negativation, view: BureauView, *, run_id: int | None = None,
               now: dt.datetime | None = None) -> CheckResult:
    """Open, refresh and close this entry's divergences after one answer of the bureau."""
    now = now or now_utc()
    local = local_view(neg)
    kinds = classify(local, view, now)
    evidence = {"local": local.as_evidence(), "bureau": view.as_evidence(), "checked_at": now.isoformat()}
    current = {d.kind: d for d in s.scalars(select(Divergence).where(
        Divergence.negativation_id == neg.id, Divergence.status == "open"))}
    result = CheckResult(neg.id, "checked", kinds=list(kinds))
    for kind in kinds:
        divergence = current.get(kind)
        if divergence is not None:
            divergence.last_seen_at, divergence.seen_count = now, divergence.seen_count + 1
            divergence.evidence = evidence
            continue
        divergence = Divergence(branch_id=neg.branch_id, negativation_id=neg.id, kind=kind, status="open",
                                opened_at=now, last_seen_at=now, seen_count=1, opened_run_id=run_id,
                                evidence=evidence)
        s.add(divergence)
        s.flush()
        result.opened.append(divergence.id)
        label = DIVERGENCE_KIND_LABELS[DivergenceKind(kind)]
        rec.add_event(s, neg, "divergence", f"Conciliação: divergência aberta — {label}.", "conciliação",
                      {"divergence_id": divergence.id, "kind": kind})
        emit(s, "reconciliation.divergence_opened", neg.branch_id,
             lambda d=divergence: payloads.divergence_data(d, neg), occurred_at=now)
    for kind, divergence in current.items():
        if kind in kinds:
            continue
        divergence.status, divergence.closed_at = "closed", now
        divergence.close_reason = f"Fechada pela verificação de {to_br(now):%d/%m/%Y %H:%M}: o bureau concorda."
        divergence.evidence = {**evidence, "opened_with": divergence.evidence}
        result.closed += 1
        rec.add_event(s, neg, "divergence_closed",
                      f"Conciliação: divergência fechada — {divergence.kind_label} (o bureau concorda).",
                      "conciliação", {"divergence_id": divergence.id, "kind": kind})
    result.message = ("Sem divergência." if not kinds else
                      "; ".join(DIVERGENCE_KIND_LABELS[DivergenceKind(k)] for k in kinds) + ".")
    return result
