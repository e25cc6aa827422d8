"""Credit consultations: consult, reuse, quota, retry, retention (rules 13 (consultation record),
14 (reuse window) and 15 (retention, then anonymise)).

`consult_credit` never holds a transaction open across the bureau call, which may take seconds and
be retried (held, it would block the database's other writers all that time):
1. a short transaction locks the branch row (an UPDATE that changes nothing: a row lock on
   PostgreSQL, the write lock on SQLite), so two clicks or two users cannot both pass the reuse and
   quota checks; it then reuses an earlier report, refuses, or writes the consultation as
   `pending` and COMMITS;
2. the bureau is called with no transaction open;
3. a new transaction records `success` or `failed` (with the pt-BR reason) and the audit event,
   or `uncertain` when the answer was lost after the request may have reached the bureau (a read
   timeout, a body cut short): the bureau may have done and charged it, so it counts toward the
   quota and shows its cost, and a new call for the document inside the reuse window (rule 14) needs
   an explicit confirmation that a second charge may follow.
A crash between 1 and 3 leaves a `pending` row, shown as interrupted and retried with one click.
The caller checks the role; this module checks the switch, the document and the policy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import func, null, or_, select, update
from sqlalchemy.orm import Session

from app.db import transaction
from app.models import Branch, Consultation, ConsultationStatus, Party
from app.models.consultations import DEFAULT_PURPOSE, PURPOSES
from app.services.consultations.policy import policy_for
from app.services.consultations.rules import (
    PENDING_IN_PROGRESS,
    ConsultationPolicyValues,
    month_bounds,
    quota_exceeded,
    retention_cutoff,
    reuse_cutoff,
    suggest,
)
from app.services.core import audit
from app.services.core.clock import now_utc, to_br, today_br
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.errors import BureauCallFailed, Conflict, DomainError, NotFound, ValidationError
from app.services.crm.parties import get_contact, get_party
from app.services.settings import switches as app_settings
from app.services.settings.bureau_messages import describe, failure_status
from app.services.titles.overdue import longest_overdue_days
from integrations.bureau import BureauError, BureauUnavailable, ConsultationResult, MalformedResponse

log = logging.getLogger(__name__)


class QuotaExceeded(DomainError):
    code = "consultation_quota_exceeded"
    http_status = 429


class NoBureauIntegration(DomainError):
    code = "no_bureau_integration"
    http_status = 409


class ConsultationInProgress(Conflict):
    code = "consultation_in_progress"


class ConsultationFailed(BureauCallFailed):
    """The bureau failed; the consultation is recorded as failed and can be retried."""

    notice = "A consulta não foi concluída e nada foi cobrado. O motivo está abaixo; use \"Tentar novamente\"."

    def __init__(self, message: str, consultation_id: int, exc: BaseException | None = None):
        status, code = failure_status(exc, "consultation") if exc is not None else (424, "bureau_error")
        super().__init__(message, code=code, http_status=status, details={"consultation_id": consultation_id})
        self.consultation_id = consultation_id


class ConsultationUncertain(ConsultationFailed):
    """The answer was lost after the bureau may have done (and charged) the consultation."""

    notice = ("A resposta do bureau se perdeu: a consulta ficou incerta e pode ter sido cobrada. Confira o custo "
              "abaixo; consultar de novo pode gerar uma segunda cobrança.")

    def __init__(self, message: str, consultation_id: int, exc: BaseException | None = None):
        super().__init__(message, consultation_id, exc)
        self.code, self.http_status = "bureau_outcome_unknown", 424


class PossibleSecondCharge(Conflict):
    """A new call for a document whose last consultation is uncertain, without the confirmation."""

    code = "consultation_possible_charge"


def is_uncertain_failure(exc: BaseException) -> bool:
    """The request may have reached the bureau and the answer was lost: it may have been charged."""
    return (isinstance(exc, BureauUnavailable) and exc.outcome_unknown) or isinstance(exc, MalformedResponse)


@dataclasses.dataclass(frozen=True)
class ConsultOutcome:
    consultation_id: int
    status: str  # success | reused
    message: str

    @property
    def reused(self) -> bool:
        return self.status == ConsultationStatus.REUSED


def _lock_branch(session: Session, branch_id: int) -> None:
    t = Branch.__table__
    session.execute(update(t).where(t.c.id == branch_id).values(updated_at=t.c.updated_at))


def _subject(session: Session, party: Party, contact_id: int | None):
    """The person whose document is consulted: the lead/prospect/client, or one of its contacts."""
    holder = party if contact_id is None else get_contact(session, party.id, contact_id)
    if not holder.document:
        what = "do contato" if contact_id else "do cadastro"
        raise ValidationError(f"Cadastre o CPF ou CNPJ {what} antes de consultar.",
                              field_errors={"document": "Obrigatório para consultar."},
                              code="missing_document")
    try:
        # Rule: an invalid document never reaches the bureau (it may predate today's validation).
        return holder, normalize_document(holder.document)
    except InvalidDocument as exc:
        raise ValidationError(f"{exc.message}. Corrija o cadastro antes de consultar.",
                              field_errors={"document": exc.message}, code="invalid_document") from exc


def reusable_report(session: Session, branch_id: int, document: str, cutoff: dt.datetime | None):
    """The newest successful, not anonymised report of this document at this branch since `cutoff`."""
    if cutoff is None:
        return None
    return session.scalar(
        select(Consultation)
        .where(Consultation.branch_id == branch_id, Consultation.document == document,
               Consultation.status == ConsultationStatus.SUCCESS.value, Consultation.completed_at >= cutoff,
               Consultation.anonymised_at.is_(None))
        .order_by(Consultation.completed_at.desc(), Consultation.id.desc())
        .limit(1))


def used_this_month(session: Session, branch_id: int, today: dt.date) -> int:
    """Charged consultations of the month, plus the pending and uncertain ones (they may be charged)."""
    start, end = month_bounds(today)
    return session.scalar(
        select(func.count(Consultation.id)).where(
            Consultation.branch_id == branch_id, Consultation.requested_at >= start,
            Consultation.requested_at < end,
            or_(Consultation.charged.is_(True),
                Consultation.status.in_((ConsultationStatus.PENDING.value, ConsultationStatus.UNCERTAIN.value))))
    ) or 0


def uncertain_in_window(session: Session, branch_id: int, document: str, cutoff: dt.datetime | None):
    """The newest uncertain consultation of this document at this branch inside the reuse window."""
    if cutoff is None:
        return None
    return session.scalar(
        select(Consultation)
        .where(Consultation.branch_id == branch_id, Consultation.document == document,
               Consultation.status == ConsultationStatus.UNCERTAIN.value, Consultation.requested_at >= cutoff)
        .order_by(Consultation.requested_at.desc(), Consultation.id.desc()).limit(1))


def _audit_details(row: Consultation, party: Party, outcome: str, **extra) -> dict:
    return {"party_id": party.id, "subject": party.name, "stage": row.stage, "contact_id": row.contact_id,
            "purpose": row.purpose, "origin": row.origin, "outcome": outcome, **extra}


def _copy_report(row: Consultation, source: Consultation) -> None:
    for f in ("protocol", "subject_name", "score", "risk_class", "restrictions", "restrictions_count",
              "restrictions_total", "queried_at"):
        setattr(row, f, getattr(source, f))


def _apply_suggestion(session: Session, row: Consultation, policy: ConsultationPolicyValues, today: dt.date) -> None:
    # Rule 16 with the client's own debts here: a bureau that does not know them yet must not lead
    # to an approval of someone who already owes this company.
    own_overdue = longest_overdue_days(session, row.party_id, today)
    s = suggest(policy, row.score or 0, row.risk_class or "", row.restrictions_total or 0, own_overdue)
    row.suggested_status, row.suggested_limit, row.suggestion_reasons = s.status, s.limit, list(s.reasons)


def consult_credit(services, actor: audit.Actor, party_id: int, *, contact_id: int | None = None,
                   purpose: str = DEFAULT_PURPOSE, force_new: bool = False, today: dt.date | None = None,
                   origin: str | None = None, retry_of_id: int | None = None,
                   confirm_possible_charge: bool = False) -> ConsultOutcome:
    """Consult the party's (or contact's) document, reusing a report inside the window unless
    `force_new`. Raises DomainError subclasses; ConsultationFailed after recording a failure
    (ConsultationUncertain when it may have been charged); PossibleSecondCharge when an uncertain
    consultation of the document is inside the window and `confirm_possible_charge` is not set."""
    today = today or today_br()
    if purpose not in PURPOSES:
        raise ValidationError("Escolha a finalidade da consulta.", field_errors={"purpose": "Inválida."},
                              code="invalid_purpose")
    with transaction(services.session_factory) as s:
        app_settings.require_credit_analysis(s)
        branch_id = get_party(s, party_id).branch_id

    refusal: DomainError | None = None
    with transaction(services.session_factory) as s:
        _lock_branch(s, branch_id)
        party = get_party(s, party_id)
        if party.branch_id != branch_id:
            raise Conflict("O cadastro mudou de filial durante a consulta. Tente novamente.")
        holder, doc = _subject(s, party, contact_id)
        integration = party.branch.integration
        if integration is None:
            raise NoBureauIntegration(
                f"A filial {party.branch.name} não tem integração de análise de crédito. Um administrador "
                "pode vinculá-la em Configurações › Filiais.")
        policy = policy_for(s, branch_id)
        now = now_utc()
        row = Consultation(
            party_id=party.id, contact_id=contact_id, branch_id=branch_id, user_id=actor.user_id,
            actor=actor.name, document=doc.number, document_kind=doc.kind, purpose=purpose, stage=party.stage,
            origin=origin, force_new=force_new, retry_of_id=retry_of_id, requested_at=now,
            register_name=(holder.name or "")[:200])
        source = None if force_new else reusable_report(s, branch_id, doc.number,
                                                        reuse_cutoff(today, policy.reuse_days))
        if source is not None:
            # Rule 14: shown again, marked reused, no bureau call and no charge.
            row.status, row.reused_from_id, row.completed_at = ConsultationStatus.REUSED.value, source.id, now
            _copy_report(row, source)
            _apply_suggestion(s, row, policy, today)
            s.add(row)
            s.flush()
            when = to_br(source.completed_at).strftime("%d/%m/%Y %H:%M")
            audit.record(s, actor, "consultation.reuse", "consultation", row.id, branch_id=branch_id,
                         document=doc.number,
                         summary=f"Consulta de '{party.name}' reaproveitada de {when} (sem nova cobrança)",
                         details=_audit_details(row, party, "reused", reused_from_id=source.id))
            return ConsultOutcome(row.id, row.status, (
                f"Relatório reaproveitado da consulta de {when}, dentro da janela de "
                f"{policy.reuse_days} dias: nenhuma nova consulta foi feita nem cobrada."))
        uncertain = None if confirm_possible_charge else uncertain_in_window(
            s, branch_id, doc.number, reuse_cutoff(today, policy.reuse_days))
        if uncertain is not None:
            raise PossibleSecondCharge(
                f"A consulta deste documento de {to_br(uncertain.requested_at):%d/%m/%Y %H:%M} ficou incerta: o "
                "bureau pode tê-la feito e cobrado sem que a resposta chegasse. Uma nova consulta pode gerar uma "
                "segunda cobrança. Confirme que deseja consultar de novo mesmo assim.")
        running = s.scalar(select(Consultation.requested_at).where(
            Consultation.branch_id == branch_id, Consultation.document == doc.number,
            Consultation.status == ConsultationStatus.PENDING.value,
            Consultation.requested_at >= now - PENDING_IN_PROGRESS).limit(1))
        if running is not None:
            raise ConsultationInProgress(
                f"Já há uma consulta deste documento em andamento (iniciada às "
                f"{to_br(running).strftime('%H:%M')}). Aguarde alguns segundos e atualize a página.")
        used = used_this_month(s, branch_id, today)
        if quota_exceeded(policy, used):
            refusal = QuotaExceeded(
                f"A cota mensal de consultas da filial {party.branch.name} foi atingida ({used} de "
                f"{policy.monthly_quota} em {today:%m/%Y}). Nenhuma consulta foi feita ao bureau. Um "
                "administrador pode ampliar a cota na política de consultas da filial.")
            audit.record(s, actor, "consultation.quota_exceeded", "party", party.id, branch_id=branch_id,
                         document=doc.number,
                         summary=f"Consulta de '{party.name}' recusada: cota mensal atingida",
                         details=_audit_details(row, party, "quota_exceeded", used=used,
                                                quota=policy.monthly_quota))
        else:
            row.status, row.cost = ConsultationStatus.PENDING.value, policy.cost_per_consultation
            s.add(row)
            s.flush()
            consultation_id = row.id
            bureau = services.bureau_for(integration)
    if refusal is not None:
        raise refusal  # after the commit: the refusal itself stays in the audit trail

    try:
        result = bureau.consult(doc.number, doc.kind)
    except BureauError as exc:
        message = describe(exc, "consultation")
        code = exc.code or type(exc).__name__
        if is_uncertain_failure(exc):
            _record_failure(services, actor, consultation_id, code, message, uncertain=True)
            raise ConsultationUncertain(message, consultation_id, exc) from exc
        _record_failure(services, actor, consultation_id, code, message)
        raise ConsultationFailed(message, consultation_id, exc) from exc
    except Exception:
        log.exception("unexpected error consulting the bureau (consultation %s)", consultation_id)
        _record_failure(services, actor, consultation_id, "unexpected",
                        "Erro inesperado ao consultar o bureau. A equipe técnica foi avisada pelo registro.")
        raise
    _record_success(services, actor, consultation_id, result)
    return ConsultOutcome(consultation_id, ConsultationStatus.SUCCESS.value,
                          f"Consulta realizada (protocolo {result.protocol}).")


def _record_success(services, actor: audit.Actor, consultation_id: int, result: ConsultationResult) -> None:
    with transaction(services.session_factory) as s:
        row = s.get(Consultation, consultation_id)
        row.status, row.completed_at, row.charged = ConsultationStatus.SUCCESS.value, now_utc(), True
        row.protocol, row.subject_name = result.protocol[:64], (result.name or "")[:200]
        row.score, row.risk_class = result.score, (result.risk_class or "")[:2]
        row.queried_at = result.queried_at
        # Rule 15: the four fields the report shows, never the raw body.
        row.restrictions = [{"creditor": r.creditor, "kind": r.kind, "occurred_on": r.occurred_on.isoformat(),
                             "amount": str(r.amount)} for r in result.restrictions]
        row.restrictions_count, row.restrictions_total = len(result.restrictions), result.restrictions_total
        _apply_suggestion(s, row, policy_for(s, row.branch_id), today_br())
        audit.record(s, actor, "consultation.success", "consultation", row.id, branch_id=row.branch_id,
                     document=row.document,
                     summary=(f"Consulta de crédito de '{row.party.name}': score {row.score}, "
                              f"classe {row.risk_class}"),
                     details=_audit_details(row, row.party, "success", protocol=row.protocol, score=row.score,
                                            risk_class=row.risk_class, cost=str(row.cost)))


def _record_failure(services, actor: audit.Actor, consultation_id: int, code: str, message: str, *,
                    uncertain: bool = False) -> None:
    status = ConsultationStatus.UNCERTAIN if uncertain else ConsultationStatus.FAILED
    with transaction(services.session_factory) as s:
        row = s.get(Consultation, consultation_id)
        # `charged` stays False (nobody knows); an uncertain row still counts toward the quota.
        row.status, row.completed_at, row.charged = status.value, now_utc(), False
        row.error_code, row.error_message = code[:40], message[:500]
        what = "ficou incerta (pode ter sido cobrada)" if uncertain else "falhou"
        audit.record(s, actor, f"consultation.{status.value}", "consultation", row.id, branch_id=row.branch_id,
                     document=row.document, summary=f"Consulta de crédito de '{row.party.name}' {what}",
                     details=_audit_details(row, row.party, status.value, error_code=row.error_code,
                                            message=message, cost=str(row.cost)))


def is_interrupted(row: Consultation, now: dt.datetime | None = None) -> bool:
    stale_before = (now or now_utc()) - PENDING_IN_PROGRESS
    return row.status == ConsultationStatus.PENDING and row.requested_at < stale_before


def can_retry(row: Consultation) -> bool:
    return row.anonymised_at is None and (
        row.status in (ConsultationStatus.FAILED, ConsultationStatus.UNCERTAIN) or is_interrupted(row))


def retry_consultation(services, actor: audit.Actor, consultation_id: int, *, today: dt.date | None = None,
                       origin: str | None = None, confirm_possible_charge: bool = False) -> ConsultOutcome:
    """One click: the same person, contact and purpose again (a report inside the window is reused).
    Retrying an uncertain one inside the window needs `confirm_possible_charge` (a second charge)."""
    with transaction(services.session_factory) as s:
        row = get_consultation(s, consultation_id)
        if not can_retry(row):
            raise Conflict("Só uma consulta que falhou, ficou incerta ou foi interrompida pode ser repetida.",
                           code="not_retryable")
        params = dict(contact_id=row.contact_id, purpose=row.purpose, force_new=row.force_new,
                      origin=origin or row.origin)
        party_id = row.party_id
    return consult_credit(services, actor, party_id, today=today, retry_of_id=consultation_id,
                          confirm_possible_charge=confirm_possible_charge, **params)


def get_consultation(session: Session, consultation_id: int) -> Consultation:
    row = session.get(Consultation, consultation_id)
    if row is None:
        raise NotFound("Consulta não encontrada.")
    return row


def history(session: Session, party_id: int, *, limit: int = 200) -> list[Consultation]:
    return list(session.scalars(
        select(Consultation).where(Consultation.party_id == party_id)
        .order_by(Consultation.requested_at.desc(), Consultation.id.desc()).limit(limit)))


def anonymise_expired(session: Session, today: dt.date | None = None,
                      actor: audit.Actor | None = None) -> int:
    """Rule 15: clear the personal fields of reports older than each branch's retention period.

    Who asked, when, for which record, the purpose, the outcome and the decision stay (rule 13).
    Safe to run twice: rows already anonymised are skipped. The caller commits."""
    today = today or today_br()
    actor = actor or audit.Actor.system("retenção")
    total = 0
    for branch_id, name in session.execute(select(Branch.id, Branch.name).order_by(Branch.id)).all():
        policy = policy_for(session, branch_id)
        cutoff = retention_cutoff(today, policy.retention_days)
        count = session.execute(
            update(Consultation)
            .where(Consultation.branch_id == branch_id, Consultation.anonymised_at.is_(None),
                   Consultation.requested_at < cutoff)
            .values(document=None, subject_name=None, register_name=None, score=None, risk_class=None,
                    restrictions=null(), restrictions_count=None, restrictions_total=None, anonymised_at=now_utc())
            .execution_options(synchronize_session=False)).rowcount
        if count:
            total += count
            audit.record(session, actor, "consultation.anonymise", "branch", branch_id, branch_id=branch_id,
                         summary=f"{count} consulta(s) da filial '{name}' anonimizadas após "
                                 f"{policy.retention_days} dias de retenção",
                         details={"count": count, "retention_days": policy.retention_days,
                                  "cutoff": cutoff.isoformat()})
    return total
