"""The one-click actions of the "Conciliação" page, each through the normal negativation services.

- Verificar agora: one check of the entry now (closes its divergences if the bureau agrees).
- Reenviar baixa: the removal goes out again through the outbox (`send_removal`) with a NEW
  Idempotency-Key when the entry was already removed here (the bureau would replay the old key's
  answer instead of removing what it shows live again).
- Registrar baixa: the bureau no longer has the entry (removed there, or unknown protocol): credit-
  desk records it as removed, with the reason a person gives, and the titles are free again.
- Atualizar status: the "Atualizar status" of the negativation page (`refresh_status`).
None of them closes a divergence by itself: the next check does, when the bureau agrees.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app.db import transaction
from app.models import BureauIntegration, Negativation
from app.models.negativations import REMOVAL_REASON_LABELS, NegativationStatus, RemovalReason
from app.models.reconciliation import Divergence
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import Conflict, NotFound, ValidationError
from app.services.negativations import records as rec
from app.services.negativations.outbox import refresh_status
from app.services.negativations.outcomes import Outcome
from app.services.negativations.removal import send_removal

from .checks import CheckResult, check_one

MARKABLE_REASONS = ("payment", "agreement", "error_correction", "manual")


def get_divergence(session, divergence_id: int) -> Divergence:
    divergence = session.get(Divergence, divergence_id)
    if divergence is None:
        raise NotFound("Divergência não encontrada.")
    return divergence


def _negativation_of(services, divergence_id: int) -> int:
    with services.session_factory() as s:
        return get_divergence(s, divergence_id).negativation_id


def recheck(services, actor: audit.Actor, negativation_id: int) -> CheckResult:
    """"Verificar agora": one bureau call, outside any run."""
    with services.session_factory() as s:
        neg = s.get(Negativation, negativation_id)
        if neg is None:
            raise NotFound("Negativação não encontrada.")
        integration = s.get(BureauIntegration, neg.integration_id) if neg.integration_id else None
        if integration is None:
            raise ValidationError("A negativação não tem integração com o bureau.", code="no_integration")
        bureau = services.bureau_for(integration)
    return check_one(services, bureau, negativation_id)


def recheck_divergence(services, actor: audit.Actor, divergence_id: int) -> CheckResult:
    return recheck(services, actor, _negativation_of(services, divergence_id))


def update_status(services, actor: audit.Actor, divergence_id: int) -> Outcome:
    return refresh_status(services, actor, _negativation_of(services, divergence_id))


def resend_removal(services, actor: audit.Actor, divergence_id: int, *, note: str = "") -> Outcome:
    """The bureau shows live an entry that must not be (removed here, or nothing owed): remove it."""
    rec.require_writer(actor)
    with transaction(services.session_factory) as s:
        divergence = get_divergence(s, divergence_id)
        neg = rec.lock_negativation(s, divergence.negativation_id)
        text = "Baixa reenviada pela conciliação: o bureau ainda mostra o registro" + (f" ({note})" if note else "")
        if neg.status in rec.REMOVABLE_STATUSES:
            reason, paid_on = _reason_for(neg)
            rec.request_removal(s, neg, reason, actor, paid_on=paid_on, note=text)
        elif neg.status == NegativationStatus.REMOVED.value:
            _reopen_removal(s, neg, actor, text)
        elif neg.status != NegativationStatus.REMOVAL_PENDING.value:
            raise Conflict(f"Negativação nº {neg.id} com status {neg.status_label}: não há baixa a reenviar.",
                           code="not_removable")
        negativation_id = neg.id
    return send_removal(services, negativation_id, force=True)


def _reason_for(neg: Negativation):
    """The removal reason the titles give (rules 9-11), as the removal sweep would choose it."""
    statuses = {nt.title.status for nt in neg.titles}
    if "cancelled" in statuses:
        return "error_correction", None  # rule 11
    if "renegotiated" in statuses:
        return "agreement", None  # rule 10
    if statuses == {"paid"}:
        return "payment", max((nt.title.paid_on for nt in neg.titles if nt.title.paid_on), default=None)  # rule 9
    return "manual", None


def _reopen_removal(s, neg: Negativation, actor: audit.Actor, text: str) -> None:
    try:
        with s.begin_nested():
            # Rule 7's index: live again while the bureau shows it (move_to sets the titles live).
            neg.move_to(NegativationStatus.REMOVAL_PENDING)
            s.flush()
    except IntegrityError:
        # A title of it is already in a newer live entry: keep this one off the index; the removal still goes.
        neg.move_to(NegativationStatus.REMOVAL_PENDING)
        for nt in neg.titles:
            nt.live = False
    neg.removal_reason = neg.removal_reason or RemovalReason.MANUAL.value
    neg.removal_idempotency_key = rec.new_key()  # the old key would only replay "removed"
    neg.removal_attempts, neg.next_attempt_at, neg.error_kind = 0, now_utc(), None
    rec.add_event(s, neg, "removal_requested", text, actor.name, {"reason": neg.removal_reason, "reopened": True})
    audit.record(s, actor, "negativation.remove_request", "negativation", neg.id, branch_id=neg.branch_id,
                 document=neg.document, summary=text, details={"reason": neg.removal_reason, "reconciliation": True})


def mark_removed(services, actor: audit.Actor, divergence_id: int, reason: str, *, note: str = "") -> Outcome:
    """The bureau no longer has the entry: record it as removed here, with a person's reason."""
    rec.require_writer(actor)
    if reason not in MARKABLE_REASONS:
        raise ValidationError("Escolha o motivo da baixa.", field_errors={"reason": "obrigatório"})
    with transaction(services.session_factory) as s:
        divergence = get_divergence(s, divergence_id)
        neg = rec.lock_negativation(s, divergence.negativation_id)
        if neg.status not in ("notice", "active", "removal_pending"):
            raise Conflict(f"Negativação nº {neg.id} com status {neg.status_label}: nada a registrar.",
                           code="not_live")
        bureau = (divergence.evidence or {}).get("bureau") or {}
        where = ("o bureau não conhece o protocolo" if bureau.get("found") is False
                 else "o bureau informou a baixa do registro")
        label = REMOVAL_REASON_LABELS[RemovalReason(reason)]
        now = now_utc()
        neg.move_to(NegativationStatus.REMOVED)  # its titles leave rule 7's index there
        neg.removal_reason = reason
        neg.removal_requested_at = neg.removal_requested_at or now
        neg.removed_at, neg.next_attempt_at = now, None
        neg.last_error_code = neg.last_error_message = neg.error_kind = None
        message = f"Baixa registrada pela conciliação ({label}): {where}." + (f" {note}" if note else "")
        rec.add_event(s, neg, "removed", message, actor.name, {"reason": reason, "divergence_id": divergence.id})
        audit.record(s, actor, "negativation.mark_removed", "negativation", neg.id, branch_id=neg.branch_id,
                     document=neg.document, summary=message, details={"reason": reason})
        return Outcome(neg.id, neg.status, True, f"Negativação nº {neg.id} registrada como baixada. "
                       "A próxima verificação fecha a divergência.")
