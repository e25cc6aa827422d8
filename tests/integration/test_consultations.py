"""consult_credit and friends with the fake bureau, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import AuditEvent, Consultation, Party
from app.models.credit import CustomerStatusChange
from app.services.consultations.consult import (
    ConsultationFailed,
    ConsultationInProgress,
    NoBureauIntegration,
    QuotaExceeded,
    anonymise_expired,
    consult_credit,
    history,
    retry_consultation,
)
from app.services.consultations.decisions import apply_decision
from app.services.core.audit import Actor
from app.services.core.errors import CreditAnalysisDisabled, PermissionDenied, ValidationError
from app.services.crm import parties
from app.services.settings import switches as app_settings
from integrations.bureau import BureauRejected, BureauUnavailable, ConsultationResult, Restriction
from tests.clock import pin_clock

from .crm_helpers import TEST_ACTOR, backdate, make_branch, make_cpf, make_party, set_policy

TODAY = dt.date(2026, 11, 23)
CRM = Actor(name="crm", user_id=None, role="crm")
FINANCE = Actor(name="financeiro", user_id=None, role="finance")


@pytest.fixture(autouse=True)
def _clock():
    """The reuse window and the retention period are counted from TODAY: the clock stands there."""
    with pin_clock(TODAY):
        yield


@pytest.fixture
def branch_id(services):
    return make_branch(services)


@pytest.fixture
def lead_id(services, branch_id):
    return make_party(services, branch_id, seed=7)


def consult(services, party_id, **kw):
    kw.setdefault("today", TODAY)
    kw.setdefault("purpose", "cadastro")
    return consult_credit(services, CRM, party_id, **kw)


def row(services, consultation_id) -> Consultation:
    with services.session_factory() as s:
        return s.get(Consultation, consultation_id)


def events(services, action):
    with services.session_factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def pin(fake_bureau, document, *, score=820, risk="A", restrictions=()):
    total = sum((r.amount for r in restrictions), Decimal("0.00"))
    fake_bureau.consultations[document] = ConsultationResult(
        protocol="C-PINNED", document=document, name="MARIA DA SILVA", score=score, risk_class=risk,
        restrictions=tuple(restrictions), restrictions_total=total,
        queried_at=dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC), raw={"secret": "never stored"})


def test_success_records_report_charge_suggestion_and_audit(services, fake_bureau, lead_id, branch_id):
    set_policy(services, branch_id, cost_per_consultation=Decimal("3.50"), approved_limit=Decimal("2500.00"))
    doc = make_cpf(7)
    pin(fake_bureau, doc, score=650, risk="B", restrictions=[
        Restriction("Banco X", Decimal("120.50"), dt.date(2025, 3, 10), "PEFIN")])
    outcome = consult(services, lead_id, origin="leads")
    assert outcome.status == "success" and not outcome.reused
    assert fake_bureau.calls_to("consult") == [(doc, "CPF")]
    c = row(services, outcome.consultation_id)
    assert (c.status, c.protocol, c.subject_name, c.score, c.risk_class) == (
        "success", "C-PINNED", "MARIA DA SILVA", 650, "B")
    assert c.restrictions == [{"creditor": "Banco X", "kind": "PEFIN", "occurred_on": "2025-03-10",
                               "amount": "120.50"}]
    assert (c.restrictions_count, c.restrictions_total) == (1, Decimal("120.50"))
    assert (c.cost, c.charged, c.stage, c.purpose, c.origin) == (
        Decimal("3.50"), True, "lead", "cadastro", "leads")
    assert c.completed_at is not None and c.error_message is None
    # score 650 < 700 and restrictions above the 0.00 allowed: pending, pending limit
    assert (c.suggested_status, c.suggested_limit) == ("PEN", Decimal("0.00"))
    assert len(c.suggestion_reasons) == 2
    [event] = events(services, "consultation.success")
    assert (event.actor, event.document, event.branch_id, event.entity_id) == (
        "crm", doc, branch_id, str(c.id))
    assert event.details["purpose"] == "cadastro" and event.details["outcome"] == "success"
    assert event.details["subject"] == "Maria da Silva" and event.details["party_id"] == lead_id


def test_reuse_inside_window_makes_no_bureau_call(services, fake_bureau, lead_id, branch_id):
    set_policy(services, branch_id, cost_per_consultation=Decimal("2.00"))
    first = consult(services, lead_id)
    backdate(services, first.consultation_id, 30)  # exactly at the edge of the 30-day window
    second = consult(services, lead_id)
    assert second.reused and "nenhuma nova consulta" in second.message
    assert len(fake_bureau.calls_to("consult")) == 1
    r1, r2 = row(services, first.consultation_id), row(services, second.consultation_id)
    assert (r2.status, r2.reused_from_id, r2.charged, r2.cost) == ("reused", r1.id, False, Decimal("0.00"))
    assert (r2.protocol, r2.score, r2.restrictions) == (r1.protocol, r1.score, r1.restrictions)
    [event] = events(services, "consultation.reuse")
    assert event.details["reused_from_id"] == r1.id and event.details["outcome"] == "reused"


def test_outside_window_or_forced_calls_the_bureau(services, fake_bureau, lead_id, branch_id):
    first = consult(services, lead_id)
    backdate(services, first.consultation_id, 31)
    assert consult(services, lead_id).status == "success"
    assert consult(services, lead_id, force_new=True).status == "success"
    assert len(fake_bureau.calls_to("consult")) == 3
    set_policy(services, branch_id, reuse_days=0)
    assert consult(services, lead_id).status == "success"
    assert len(fake_bureau.calls_to("consult")) == 4


def test_reuse_is_per_branch_and_document(services, fake_bureau, lead_id, branch_id):
    consult(services, lead_id)
    other_branch = make_branch(services, name="Filial Rio", cnpj="12ABC34501DE35")
    same_doc_elsewhere = make_party(services, other_branch, seed=7)
    assert consult(services, same_doc_elsewhere).status == "success"
    same_doc_contact_party = make_party(services, branch_id, name="Outra empresa", seed=8)
    with transaction(services.session_factory) as s:
        contact = parties.add_contact(s, TEST_ACTOR, same_doc_contact_party,
                                      parties.ContactInput(name="Sócio", document=make_cpf(7)))
    outcome = consult(services, same_doc_contact_party, contact_id=contact.id, origin="contato")
    assert outcome.reused
    assert row(services, outcome.consultation_id).contact_id == contact.id
    assert len(fake_bureau.calls_to("consult")) == 2


def test_quota_refuses_without_calling_and_records_the_refusal(services, fake_bureau, lead_id, branch_id):
    set_policy(services, branch_id, monthly_quota=1)
    consult(services, lead_id)
    with pytest.raises(QuotaExceeded) as info:
        consult(services, lead_id, force_new=True)
    assert "cota mensal" in info.value.message and "1 de 1 em 11/2026" in info.value.message
    assert len(fake_bureau.calls_to("consult")) == 1
    with services.session_factory() as s:
        assert len(s.scalars(select(Consultation)).all()) == 1
    assert len(events(services, "consultation.quota_exceeded")) == 1
    # a reuse is free and does not count
    assert consult(services, lead_id).reused
    # next month the quota starts again
    assert consult(services, lead_id, force_new=True, today=dt.date(2026, 12, 1)).status == "success"


def test_failed_consultations_do_not_use_the_quota(services, fake_bureau, lead_id, branch_id):
    set_policy(services, branch_id, monthly_quota=1)
    fake_bureau.fail_next(BureauUnavailable("down"))
    with pytest.raises(ConsultationFailed):
        consult(services, lead_id)
    assert consult(services, lead_id).status == "success"


def test_invalid_or_missing_document_never_reaches_the_bureau(services, fake_bureau, branch_id):
    bad = make_party(services, branch_id, seed=3)
    with transaction(services.session_factory) as s:
        s.get(Party, bad).document = "11111111111"  # legacy data that predates validation
    with pytest.raises(ValidationError) as info:
        consult(services, bad)
    assert info.value.code == "invalid_document" and "iguais" in info.value.message
    blank = make_party(services, branch_id, name="Sem documento", document="")
    with pytest.raises(ValidationError) as info:
        consult(services, blank)
    assert info.value.code == "missing_document"
    assert fake_bureau.calls_to("consult") == []
    with services.session_factory() as s:
        assert s.scalars(select(Consultation)).all() == []


def test_branch_without_integration_is_refused(services, fake_bureau):
    branch = make_branch(services, integration=False)
    party = make_party(services, branch)
    with pytest.raises(NoBureauIntegration) as info:
        consult(services, party)
    assert "não tem integração" in info.value.message
    assert fake_bureau.calls == []


def test_bureau_down_records_failure_and_retry_succeeds(services, fake_bureau, lead_id):
    fake_bureau.fail_next(BureauUnavailable("connection refused"))
    with pytest.raises(ConsultationFailed) as info:
        consult(services, lead_id, origin="leads")
    failed = row(services, info.value.consultation_id)
    assert (failed.status, failed.charged, failed.error_code) == ("failed", False, "BureauUnavailable")
    assert failed.error_message == info.value.message and "indisponível" in failed.error_message
    assert failed.score is None and failed.protocol is None
    assert events(services, "consultation.failed")[0].details["outcome"] == "failed"
    retried = retry_consultation(services, CRM, failed.id, today=TODAY)
    assert retried.status == "success"
    new = row(services, retried.consultation_id)
    assert (new.retry_of_id, new.origin, new.purpose) == (failed.id, "leads", "cadastro")
    assert len(fake_bureau.calls_to("consult")) == 2


def test_rejection_message_and_unexpected_errors_are_recorded(services, fake_bureau, lead_id):
    fake_bureau.fail_next(BureauRejected("documento inválido no bureau", status=422, code="invalid_document"))
    with pytest.raises(ConsultationFailed) as info:
        consult(services, lead_id)
    assert row(services, info.value.consultation_id).error_code == "invalid_document"
    assert "Mensagem do bureau: documento inválido no bureau" in info.value.message
    fake_bureau.fail_next(RuntimeError("bug"))
    with pytest.raises(RuntimeError):
        consult(services, lead_id)
    with services.session_factory() as s:
        statuses = [c.status for c in s.scalars(select(Consultation).order_by(Consultation.id))]
    assert statuses == ["failed", "failed"]


def test_pending_consultation_blocks_a_second_click_until_stale(services, fake_bureau, lead_id, branch_id):
    with transaction(services.session_factory) as s:
        s.add(Consultation(party_id=lead_id, branch_id=branch_id, actor="crm", document=make_cpf(7),
                           document_kind="CPF", purpose="cadastro", stage="lead", status="pending"))
    with pytest.raises(ConsultationInProgress):
        consult(services, lead_id)
    with services.session_factory() as s:
        pending_id = s.scalar(select(Consultation.id))
    backdate(services, pending_id, 1)
    assert consult(services, lead_id).status == "success"
    assert retry_consultation(services, CRM, pending_id, today=TODAY).reused


def test_conversion_keeps_consultations(services, lead_id):
    done = consult(services, lead_id)
    with transaction(services.session_factory) as s:
        parties.convert(s, TEST_ACTOR, lead_id)
    with services.session_factory() as s:
        assert s.get(Party, lead_id).stage == "prospect"
        assert [c.id for c in history(s, lead_id)] == [done.consultation_id]
    again = consult(services, lead_id)
    with transaction(services.session_factory) as s:
        parties.convert(s, TEST_ACTOR, lead_id)
    with services.session_factory() as s:
        rows = history(s, lead_id)
        assert [c.id for c in rows] == [again.consultation_id, done.consultation_id]
        assert [c.stage for c in rows] == ["prospect", "lead"]
        assert s.get(Party, lead_id).stage == "client"


def test_decision_records_who_why_and_sets_status(services, fake_bureau, lead_id, branch_id):
    pin(fake_bureau, make_cpf(7), score=900, risk="A")
    c_id = consult(services, lead_id).consultation_id
    assert row(services, c_id).suggested_status == "APV"
    with transaction(services.session_factory) as s:
        with pytest.raises(PermissionDenied):
            apply_decision(s, CRM, c_id, status="APV", reason="Cliente antigo")
        with pytest.raises(ValidationError) as info:
            apply_decision(s, FINANCE, c_id, status="XYZ", reason="")
        assert set(info.value.field_errors) == {"status", "reason"}
        apply_decision(s, FINANCE, c_id, status="PEN", reason="Aguardar 3 meses de pagamento em dia",
                       credit_limit="500,00")
    c = row(services, c_id)
    assert (c.decision_status, c.decision_limit, c.decision_overrode, c.decided_by) == (
        "PEN", Decimal("500.00"), True, "financeiro")
    assert c.decision_reason == "Aguardar 3 meses de pagamento em dia" and c.decided_at is not None
    with services.session_factory() as s:
        assert s.get(Party, lead_id).status == "PEN"
    [event] = events(services, "consultation.decision")
    assert event.details["suggested"] == {"status": "APV", "limit": "1000.00"}
    assert event.details["applied"] == {"status": "PEN", "limit": "500.00"}
    assert event.details["reason"] == "Aguardar 3 meses de pagamento em dia" and event.details["overrode"]
    with transaction(services.session_factory) as s:
        apply_decision(s, FINANCE, c_id, status="APV", reason="Revisado: sugestão aceita",
                       credit_limit="1.000,00")
    assert row(services, c_id).decision_overrode is False
    with services.session_factory() as s:
        assert s.get(Party, lead_id).status == "APV"
        # rule 21: each status change is in the credit area's history, with the reason
        changes = s.scalars(select(CustomerStatusChange).order_by(CustomerStatusChange.id)).all()
        assert [(ch.from_status, ch.to_status, ch.actor) for ch in changes] == [("PEN", "APV", "financeiro")]
        assert changes[0].reason == f"Decisão da consulta de crédito nº {c_id}: Revisado: sugestão aceita"


def test_switch_off_refuses_consulting_and_deciding(services, fake_bureau, lead_id):
    c_id = consult(services, lead_id).consultation_id
    with transaction(services.session_factory) as s:
        app_settings.set_credit_analysis(s, TEST_ACTOR, False)
    with pytest.raises(CreditAnalysisDisabled):
        consult(services, lead_id, force_new=True)
    with transaction(services.session_factory) as s, pytest.raises(CreditAnalysisDisabled):
        apply_decision(s, FINANCE, c_id, status="APV", reason="motivo qualquer")
    assert len(fake_bureau.calls_to("consult")) == 1


def test_anonymise_expired_clears_personal_fields_once(services, fake_bureau, lead_id, branch_id):
    set_policy(services, branch_id, retention_days=60)
    old = consult(services, lead_id).consultation_id
    recent = consult(services, lead_id, force_new=True).consultation_id
    backdate(services, old, 61)
    with transaction(services.session_factory) as s:
        assert anonymise_expired(s, TODAY) == 1
    with transaction(services.session_factory) as s:
        assert anonymise_expired(s, TODAY) == 0
    o, r = row(services, old), row(services, recent)
    assert o.anonymised_at is not None and (o.document, o.subject_name, o.score, o.restrictions) == (
        None, None, None, None)
    assert (o.status, o.purpose, o.actor, o.party_id) == ("success", "cadastro", "crm", lead_id)
    assert r.anonymised_at is None and r.document == make_cpf(7)
    [event] = events(services, "consultation.anonymise")
    assert event.details["count"] == 1


def test_cli_anonymise_command(app, services, lead_id, branch_id):
    set_policy(services, branch_id, retention_days=30)
    old = consult(services, lead_id).consultation_id
    backdate(services, old, 40)
    result = app.test_cli_runner().invoke(args=["anonymise-consultations", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 consulta(s) anonimizada(s)."
    assert row(services, old).anonymised_at is not None


def test_decision_on_a_client_sets_its_credit_limit_through_the_credit_account(services, fake_bureau, branch_id):
    """A finance user consults a client and applies APV with a limit: status and limit land on the
    credit account (with history and the platform outbox), not only on the consultation."""
    from app.models.credit import CreditLimitChange
    from app.services.credit.accounts import account_for

    party_id = make_party(services, branch_id, seed=11)
    with transaction(services.session_factory) as s:
        party = s.get(Party, party_id)
        party.stage = "client"
    pin(fake_bureau, make_cpf(11), score=900, risk="A")
    c_id = consult(services, party_id).consultation_id
    with transaction(services.session_factory) as s:
        apply_decision(s, FINANCE, c_id, status="APV", reason="Bom pagador", credit_limit="2.500,00")
    with services.session_factory() as s:
        assert s.get(Party, party_id).status == "APV"
        assert account_for(s, party_id).credit_limit == Decimal("2500.00")
        change = s.scalars(select(CreditLimitChange)).one()
        assert change.new_limit == Decimal("2500.00") and "Bom pagador" in change.reason


def test_client_owing_here_for_30_days_or_more_is_suggested_at_most_pending_with_zero_limit(
        services, fake_bureau, branch_id):
    from app.models import Title
    client_id = make_party(services, branch_id, seed=60, stage="client", name="Cliente Devedor")
    with services.session_factory() as s:
        s.add(Title(branch_id=branch_id, party_id=client_id, number="OWN-1", issue_date=TODAY - dt.timedelta(days=75),
                    due_date=TODAY - dt.timedelta(days=45), amount=Decimal("89.90"), amount_received=Decimal("0.00"),
                    open_amount=Decimal("89.90"), status="open"))
        s.commit()
    doc = make_cpf(60)
    pin(fake_bureau, doc, score=900, risk="A")  # the bureau alone would approve (APV, R$ 1.000,00)
    c = row(services, consult(services, client_id).consultation_id)
    assert (c.suggested_status, c.suggested_limit) == ("PEN", Decimal("0.00"))
    assert c.suggestion_reasons[0] == ("título da própria empresa vencido há 45 dias "
                                       "(a política limita a PEN com limite zero a partir de 30 dias)")


def test_client_whose_titles_here_are_paid_or_recent_keeps_the_bureau_suggestion(services, fake_bureau, branch_id):
    from app.models import Title
    client_id = make_party(services, branch_id, seed=61, stage="client", name="Cliente em Dia")
    with services.session_factory() as s:
        for number, days, status, open_amount in (("PAID-1", 90, "paid", "0.00"), ("LATE-1", 29, "open", "50.00")):
            s.add(Title(branch_id=branch_id, party_id=client_id, number=number,
                        issue_date=TODAY - dt.timedelta(days=days + 30), due_date=TODAY - dt.timedelta(days=days),
                        amount=Decimal("50.00"), amount_received=Decimal("50.00") - Decimal(open_amount),
                        open_amount=Decimal(open_amount), status=status))
        s.commit()
    pin(fake_bureau, make_cpf(61), score=900, risk="A")
    c = row(services, consult(services, client_id).consultation_id)
    assert (c.suggested_status, c.suggested_limit) == ("APV", Decimal("1000.00"))


def test_consultation_keeps_the_register_name_and_anonymisation_clears_it(services, fake_bureau, lead_id, branch_id):
    pin(fake_bureau, make_cpf(7))
    c = row(services, consult(services, lead_id).consultation_id)
    assert (c.register_name, c.subject_name, c.bureau_name_differs) == ("Maria da Silva", "MARIA DA SILVA", False)
    backdate(services, c.id, 400)
    with services.session_factory() as s:
        anonymise_expired(s, TODAY)
        s.commit()
    assert row(services, c.id).register_name is None
