"""Applying a consultation's suggested credit decision (domain rule 16, LGPD art. 20).

The branch policy only suggests; a person (finance or admin) applies the suggestion or overrides it,
always with a reason. The decision sets the person's status (PEN / APV / RPV, rule 19) through
`credit_accounts.set_status` (status history and the commerce platform, rule 21) and keeps a credit
limit on the consultation for the credit-account area to use. Re-deciding is allowed (a
review); the audit trail keeps every decision with who, why and what was suggested.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from app.models import CustomerStatus
from app.services.consultations.consult import get_consultation
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import Conflict, PermissionDenied, ValidationError
from app.services.core.money import brl, parse_money
from app.services.core.permissions import Capability, allows
from app.services.credit import accounts as credit_accounts
from app.services.settings import switches as app_settings

MIN_REASON = 5


def apply_decision(session: Session, actor: audit.Actor, consultation_id: int, *, status: str, reason: str,
                   credit_limit=None):
    """Record the person's decision on the consultation and set the party's status.

    `credit_limit` (Decimal, number or pt-BR text) is optional; a rejection (RPV) stores 0.
    The caller commits."""
    app_settings.require_credit_analysis(session)
    if not allows(actor.role, Capability.DECIDE_CREDIT):
        raise PermissionDenied("Só o financeiro ou um administrador aplica a decisão de crédito.")
    row = get_consultation(session, consultation_id)
    if not row.has_report:
        raise Conflict("Esta consulta não tem relatório para decidir (falhou, está em andamento ou foi "
                       "anonimizada).", code="no_report")
    errors: dict[str, str] = {}
    status = (status or "").strip().upper()
    if status not in {s.value for s in CustomerStatus}:
        errors["status"] = "Escolha APV, PEN ou RPV."
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        errors["reason"] = "Explique o motivo da decisão (revisão humana, LGPD art. 20)."
    limit: Decimal | None = None
    if credit_limit not in (None, ""):
        try:
            limit = parse_money(credit_limit)
        except ValueError:
            errors["credit_limit"] = "Informe um valor em reais, por exemplo 1.500,00."
        else:
            if limit < 0:
                errors["credit_limit"] = "O limite não pode ser negativo."
    if errors:
        raise ValidationError("Não foi possível aplicar a decisão. Corrija os campos indicados.",
                              field_errors=errors)
    if status == CustomerStatus.RPV:
        limit = Decimal("0.00")
    party = row.party
    previous = {"status": row.decision_status, "limit": row.decision_limit, "party_status": party.status}
    overrode = status != row.suggested_status or (
        limit is not None and row.suggested_limit is not None and limit != row.suggested_limit)
    row.decision_status, row.decision_limit, row.decision_reason = status, limit, reason
    row.decision_overrode = overrode
    row.decided_by_id, row.decided_by, row.decided_at = actor.user_id, actor.name, now_utc()
    # Rule 21: status and limit go through the credit area (history + commerce platform). A limit only
    # exists for clients; for a lead or prospect it stays on the consultation until conversion.
    credit_accounts.apply_credit_decision(
        session, actor, party.id, status=status, limit=limit if party.stage == "client" else None,
        reason=f"Decisão da consulta de crédito nº {row.id}: {reason}"[:500])
    session.flush()
    verb = "alterou a sugestão para" if overrode else "aplicou a sugestão"
    audit.record(
        session, actor, "consultation.decision", "consultation", row.id, branch_id=row.branch_id,
        document=row.document,
        summary=f"Decisão de crédito de '{party.name}': {actor.name} {verb} {status}"
                + (f", limite {brl(limit)}" if limit is not None else ""),
        details={"party_id": party.id, "subject": party.name, "reason": reason, "overrode": overrode,
                 "suggested": {"status": row.suggested_status, "limit": _plain(row.suggested_limit)},
                 "applied": {"status": status, "limit": _plain(limit)},
                 "previous": {k: _plain(v) for k, v in previous.items()}},
    )
    return row


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value
