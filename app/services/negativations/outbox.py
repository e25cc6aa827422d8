"""The scheduler's side of negativations: outbox retry, status sync, removal sweep (rules 3, 6, 9-11).

Each job is safe to run twice and to be killed at any line: per-row state in the database, one
row's failure never aborts the batch, and each returns counts of what it did and skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace

from sqlalchemy import or_, select

from app.db import transaction
from app.models import BureauIntegration, Negativation, NegativationTitle, Title
from app.models.negativations import NEGATIVATION_STATUS_LABELS, NegativationStatus
from app.models.titles import COLLECTIBLE_STATUSES
from app.services.core import audit
from app.services.core.clock import now_utc, today_br
from app.services.core.errors import NotFound
from app.services.negativations import records as rec
from app.services.negativations.eligibility import is_prescribed, prescription_cutoff
from app.services.negativations.outcomes import Outcome, outcome
from app.services.negativations.policy import policy_for
from app.services.negativations.removal import send_removal
from app.services.negativations.sending import send_inclusion
from app.services.settings.bureau_breaker import not_blocked
from app.services.settings.bureau_messages import describe

log = logging.getLogger(__name__)
BATCH = 200
ROUTINE = audit.Actor.system("rotina")


def retry_outbox(services, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Resend `pending` and `removal_pending` rows whose turn came, each with its stored key.

    Rows of an integration whose circuit breaker is open wait, untouched (no attempt is burnt on a
    bureau that refuses the credentials or is down); they go as soon as it closes."""
    now = now or now_utc()
    with services.session_factory() as s:
        rows = s.execute(
            select(Negativation.id, Negativation.status)
            .where(
                Negativation.status.in_(("pending", "removal_pending")), Negativation.next_attempt_at <= now,
                not_blocked(Negativation.integration_id, s),
            )
            .order_by(Negativation.next_attempt_at)
            .limit(BATCH)
        ).all()
    counts = {"sent": 0, "still_pending": 0, "failed": 0}
    for neg_id, status in rows:
        try:
            if status == "pending":
                out = send_inclusion(services, neg_id, force=True)
            else:
                out = send_removal(services, neg_id, force=True)
            moved = out.ok and out.status != status
            counts["sent" if moved else "still_pending" if out.ok else "failed"] += 1
        except Exception:  # one row never stops the batch
            log.exception("outbox retry of negativation %s failed", neg_id)
            counts["failed"] += 1
    return counts


def refresh_status(services, actor: audit.Actor, negativation_id: int) -> Outcome:
    """ "Atualizar status": ask the bureau; a `pending` row is resent with its SAME key instead."""
    with services.session_factory() as s:
        neg = s.get(Negativation, negativation_id)
        if neg is None:
            raise NotFound("Negativação não encontrada.")
        status, protocol, integration_id = neg.status, neg.protocol, neg.integration_id
    if status == "pending":
        rec.require_writer(actor)
        return send_inclusion(services, negativation_id, force=True)
    if status == "removal_pending":
        rec.require_writer(actor)
        return send_removal(services, negativation_id, force=True)
    if protocol is None or integration_id is None or status not in ("notice", "active"):
        # Nothing was asked of the bureau: say so, never "enviada"/"baixada com sucesso".
        with services.session_factory() as s:
            found = outcome(s.get(Negativation, negativation_id))
            return replace(found, message=f"Situação registrada: {_label(status)}. Nada a consultar no bureau "
                                          "nesta situação.")
    with services.session_factory() as s:
        bureau = services.bureau_for(s.get(BureauIntegration, integration_id))
    try:
        answer = bureau.negativation_status(protocol)
    except Exception as exc:  # noqa: BLE001 - shown to the user, retried by the next sync
        message = describe(exc) if hasattr(exc, "retryable") else "Falha ao consultar o bureau."
        with services.session_factory() as s:
            return outcome(
                s.get(Negativation, negativation_id),
                ok=False,
                message=f"Não foi possível atualizar o status: {message}",
            )
    with transaction(services.session_factory) as s:
        neg = rec.lock_negativation(s, negativation_id)
        _apply_status(s, neg, answer, actor.name)
        found = outcome(neg)
        if neg.status == status:
            text = f"Situação consultada no bureau: {_label(status)}, sem mudança."
        else:
            text = f"Situação consultada no bureau: {_label(status)} → {_label(neg.status)}."
            if neg.status == NegativationStatus.ERROR.value and neg.last_error_message:
                text += f" {neg.last_error_message}"
        return replace(found, message=text)


def _label(status: str) -> str:
    return NEGATIVATION_STATUS_LABELS[NegativationStatus(status)]


def _apply_status(s, neg: Negativation, answer, actor_name: str) -> None:
    if neg.status not in ("notice", "active"):
        return
    if answer.status == "active" and neg.status == "notice":
        # Rule 6: the restriction shows only after the bureau's notice period.
        neg.move_to(NegativationStatus.ACTIVE)
        neg.activated_at = answer.activated_at or now_utc()
        rec.add_event(
            s, neg, "activated", "Período de notificação encerrado: negativação ativa no bureau.", actor_name
        )
    elif answer.status == "removed":
        neg.move_to(NegativationStatus.REMOVED)
        neg.removed_at = answer.removed_at or now_utc()
        rec.add_event(
            s,
            neg,
            "removed",
            "O bureau informou a baixa do registro (sem pedido do credor).",
            actor_name,
            {"message": answer.message},
        )
    elif answer.status == "rejected":
        neg.move_to(NegativationStatus.ERROR)
        neg.error_kind = "permanent"
        neg.last_error_code, neg.last_error_message = "rejected", answer.message or "Recusada pelo bureau."
        rec.add_event(
            s, neg, "error", f"O bureau recusou a negativação: {neg.last_error_message}", actor_name
        )
    elif answer.notice_until and answer.notice_until != neg.notice_until:
        neg.notice_until = answer.notice_until
        rec.add_event(s, neg, "notice", f"Notificação até {answer.notice_until:%d/%m/%Y}.", actor_name)


def sync_statuses(services, today: dt.date | None = None) -> dict[str, int]:
    """`notice` rows whose notice period may be over: ask the bureau (rule 6)."""
    today = today or today_br()
    with services.session_factory() as s:
        ids = s.scalars(
            select(Negativation.id)
            .where(
                Negativation.status == "notice",
                Negativation.protocol.is_not(None),
                not_blocked(Negativation.integration_id, s),
                or_(Negativation.notice_until.is_(None), Negativation.notice_until <= today),
            )
            .order_by(Negativation.id)
            .limit(BATCH * 5)
        ).all()
    counts = {"checked": 0, "activated": 0, "failed": 0}
    for neg_id in ids:
        try:
            out = refresh_status(services, ROUTINE, neg_id)
            counts["checked"] += 1
            counts["activated"] += out.status == "active"
            counts["failed"] += not out.ok
        except Exception:
            log.exception("status sync of negativation %s failed", neg_id)
            counts["failed"] += 1
    return counts


def _removal_candidates(s, today: dt.date, branch_id: int | None) -> list[int]:
    """Live entries with a title that is no longer collectible, fully paid, or near prescription."""
    oldest_possible = prescription_cutoff(today, 5)  # shorter branch prescriptions are checked below
    stmt = (
        select(Negativation.id)
        .distinct()
        .join(NegativationTitle, NegativationTitle.negativation_id == Negativation.id)
        .join(Title, Title.id == NegativationTitle.title_id)
        .where(
            Negativation.status.in_(rec.REMOVABLE_STATUSES),
            NegativationTitle.live,
            or_(
                ~Title.status.in_(COLLECTIBLE_STATUSES),
                Title.open_amount <= 0,
                Title.due_date < prescription_cutoff(today, 1),
                Title.due_date < oldest_possible,
            ),
        )
        .order_by(Negativation.id)
        .limit(BATCH)
    )
    if branch_id is not None:
        stmt = stmt.where(Negativation.branch_id == branch_id)
    return list(s.scalars(stmt).all())


def due_removals(s, today: dt.date, branch_id: int | None = None) -> list[tuple[Negativation, str]]:
    """Read-only: the entries that must be removed now and why (used by the routine's dry run)."""
    out = []
    for neg_id in _removal_candidates(s, today, branch_id):
        neg = s.get(Negativation, neg_id)
        reason, _ = _removal_reason(s, neg, today)
        if reason:
            out.append((neg, reason))
    return out


def mark_due_removals(services, today: dt.date | None = None, branch_id: int | None = None,
                      actor=ROUTINE) -> list[tuple[int, str]]:
    """Live entries whose titles were paid (rule 9), renegotiated (rule 10), cancelled (rule 11)
    or reached prescription (rule 3, "expired") go to removal_pending; returns (id, reason)."""
    today = today or today_br()
    marked: list[tuple[int, str]] = []
    with transaction(services.session_factory) as s:
        for neg_id in _removal_candidates(s, today, branch_id):
            neg = rec.lock_negativation(s, neg_id)
            reason, paid_on = _removal_reason(s, neg, today)
            if reason and rec.request_removal(s, neg, reason, actor, paid_on=paid_on):
                marked.append((neg_id, reason))
    return marked


def sweep_removals(services, today: dt.date | None = None) -> dict[str, int]:
    """Mark every due removal, send them, then retry removals whose earlier send failed."""
    marked = [neg_id for neg_id, _ in mark_due_removals(services, today)]
    counts = {"marked": len(marked), "removed": 0, "failed": 0}
    for neg_id in marked:
        out = send_removal(services, neg_id, force=True)
        counts["removed" if out.status == "removed" else "failed"] += 1
    retried = retry_outbox_removals(services, exclude=set(marked))
    counts["removed"] += retried["removed"]
    counts["failed"] += retried["failed"]
    return counts


def retry_outbox_removals(services, *, exclude: set[int] = frozenset()) -> dict[str, int]:
    """Removals whose turn came (a failed immediate send, a crash after the commit)."""
    with services.session_factory() as s:
        ids = s.scalars(
            select(Negativation.id)
            .where(Negativation.status == "removal_pending", Negativation.next_attempt_at <= now_utc(),
                   not_blocked(Negativation.integration_id, s))
            .order_by(Negativation.next_attempt_at)
            .limit(BATCH)
        ).all()
    counts = {"removed": 0, "failed": 0}
    for neg_id in (i for i in ids if i not in exclude):
        try:
            out = send_removal(services, neg_id)
            counts["removed" if out.status == "removed" else "failed"] += 1
        except Exception:
            log.exception("removal of negativation %s failed", neg_id)
            counts["failed"] += 1
    return counts


def _removal_reason(s, neg: Negativation, today: dt.date) -> tuple[str | None, dt.date | None]:
    titles = [nt.title for nt in neg.titles]
    years = policy_for(s, neg.branch_id).prescription_years
    if any(is_prescribed(t.due_date, today, years) for t in titles):
        return "expired", None  # rule 3: never kept past prescription
    if any(t.status == "cancelled" for t in titles):
        return "error_correction", None  # rule 11
    if any(t.status == "renegotiated" for t in titles):
        return "agreement", None  # rule 10
    if all(t.open_amount <= 0 for t in titles):
        return "payment", max((t.paid_on for t in titles if t.paid_on), default=today)  # rule 9
    return None, None
