"""Domain rules 1-8, one by one: each test breaks one rule and asserts the exact pt-BR reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.models import Branch, BureauIntegration, Party, Title
from app.services.negativations.eligibility import (
    Criteria,
    LiveEntry,
    check_title,
    is_prescribed,
    prescription_cutoff,
    prescription_date,
)
from app.services.negativations.policy import NegativationPolicy

TODAY = dt.date(2026, 3, 16)


def _world(**title_kw):
    integration = BureauIntegration(
        id=1,
        name="CnM",
        base_url="http://x",
        client_id="c",
        client_secret_encrypted="s",
        restriction_code_pf="12",
        restriction_code_pj="22",
    )
    branch = Branch(id=1, name="Matriz", cnpj="11222333000181", integration=integration)
    party = Party(
        id=1,
        branch_id=1,
        stage="client",
        name="Maria",
        document="52998224725",
        document_kind="CPF",
        street="Rua A",
        number="10",
        district="Centro",
        city="São Paulo",
        state="SP",
        zip="01001000",
    )
    values = dict(
        id=7,
        branch_id=1,
        party_id=1,
        number="T-7",
        issue_date=TODAY - dt.timedelta(days=40),
        due_date=TODAY - dt.timedelta(days=10),
        amount=Decimal("100.00"),
        amount_received=Decimal("0.00"),
        open_amount=Decimal("100.00"),
        status="open",
        disputed=False,
        court_blocked=False,
    )
    values.update(title_kw)
    return Title(**values), party, branch


def _check(title, party, branch, *, policy=None, criteria=None, live=None):
    return check_title(title, party, branch, policy or NegativationPolicy(1), criteria or Criteria(TODAY), live)


def test_an_overdue_open_title_of_a_complete_client_is_eligible():
    verdict = _check(*_world())
    assert verdict.eligible and verdict.code is None and verdict.reason is None


def test_partial_title_is_eligible_and_only_its_open_amount_counts():
    verdict = _check(
        *_world(status="partial", amount_received=Decimal("60.00"), open_amount=Decimal("40.00"))
    )
    assert verdict.eligible


@pytest.mark.parametrize(
    ("status", "reason"),
    [("cancelled", "Título cancelado"), ("paid", "Título pago"), ("renegotiated", "Título renegociado")],
)
def test_rule_4_cancelled_paid_renegotiated(status, reason):
    verdict = _check(*_world(status=status))
    assert (verdict.code, verdict.reason) == (status, reason)


def test_rule_4_disputed_says_why():
    verdict = _check(*_world(disputed=True, dispute_reason="Cliente contesta a cobrança"))
    assert (verdict.code, verdict.reason) == ("disputed", "Título em disputa: Cliente contesta a cobrança")


def test_rule_4_court_blocked():
    verdict = _check(*_world(court_blocked=True))
    assert (verdict.code, verdict.reason) == ("court_blocked", "Bloqueado por ordem judicial")


def test_rule_1_not_overdue_on_the_due_date_itself():
    verdict = _check(*_world(due_date=TODAY))
    assert (verdict.code, verdict.reason) == ("not_overdue", "Título não vencido (vence em 16/03/2026)")


def test_rule_1_no_open_amount():
    verdict = _check(*_world(open_amount=Decimal("0.00")))
    assert (verdict.code, verdict.reason) == ("not_overdue", "Sem saldo em aberto")


def test_rule_2_manual_needs_one_day_overdue():
    verdict = _check(*_world(due_date=TODAY - dt.timedelta(days=1)))
    assert verdict.eligible


def test_rule_2_routine_needs_its_n_days():
    title, party, branch = _world(due_date=TODAY - dt.timedelta(days=59))
    verdict = _check(title, party, branch, criteria=Criteria(TODAY, min_days_overdue=60))
    assert (verdict.code, verdict.reason) == ("too_recent", "Vencido há 59 dia(s); o mínimo é 60 dia(s)")
    title.due_date = TODAY - dt.timedelta(days=60)
    assert _check(title, party, branch, criteria=Criteria(TODAY, min_days_overdue=60)).eligible


def test_rule_3_five_years_count_from_the_day_after_the_due_date():
    due = dt.date(2021, 3, 15)  # 5 years from 16/03/2021 end on 16/03/2026 = TODAY
    verdict = _check(*_world(due_date=due))
    assert (verdict.code, verdict.reason) == (
        "prescribed",
        "Vencido há 5 anos ou mais (prescrito; conta-se do dia seguinte ao vencimento)",
    )
    assert _check(*_world(due_date=due + dt.timedelta(days=1))).eligible  # one day short of 5 years


def test_rule_3_shorter_branch_prescription():
    title, party, branch = _world(due_date=dt.date(2023, 3, 15))
    verdict = _check(title, party, branch, policy=NegativationPolicy(1, prescription_years=3))
    assert verdict.code == "prescribed" and verdict.reason.startswith("Vencido há 3 anos ou mais")


def test_rule_3_cutoff_matches_the_per_title_rule_around_leap_days():
    for today in (dt.date(2026, 3, 16), dt.date(2028, 2, 29), dt.date(2028, 3, 1), dt.date(2025, 3, 1)):
        cutoff = prescription_cutoff(today, 5)
        assert not is_prescribed(cutoff, today, 5)
        assert is_prescribed(cutoff - dt.timedelta(days=1), today, 5)
    assert prescription_date(dt.date(2024, 2, 28), 5) == dt.date(
        2029, 2, 28
    )  # from 29/02/2024: no 29/02/2029


def test_rule_8_below_branch_minimum():
    title, party, branch = _world(open_amount=Decimal("49.99"))
    verdict = _check(title, party, branch, policy=NegativationPolicy(1, min_amount=Decimal("50.00")))
    assert (verdict.code, verdict.reason) == (
        "below_minimum",
        "Valor em aberto R$ 49,99 abaixo do mínimo da filial (R$ 50,00)",
    )


def test_rule_7_already_in_a_live_negativation():
    verdict = _check(*_world(), live=LiveEntry(negativation_id=12, status="notice"))
    assert (verdict.code, verdict.reason) == (
        "already_negativated",
        "Já está na negativação nº 12 (Em notificação)",
    )


def test_rule_5_incomplete_address_lists_what_is_missing():
    title, party, branch = _world()
    party.zip, party.number = "", None
    verdict = _check(title, party, branch)
    assert (verdict.code, verdict.reason) == (
        "address_incomplete",
        "Endereço do cliente incompleto (falta: número, CEP)",
    )


@pytest.mark.parametrize("document", [None, "", "52998224700", "11111111111"])
def test_client_without_a_valid_document(document):
    title, party, branch = _world()
    party.document = document
    verdict = _check(title, party, branch)
    assert (verdict.code, verdict.reason) == ("invalid_document", "Cliente sem CPF/CNPJ válido")


def test_rule_8_branch_without_integration():
    title, party, branch = _world()
    branch.integration = None
    verdict = _check(title, party, branch)
    assert (verdict.code, verdict.reason) == ("no_integration", "A filial não tem integração com o bureau")


def test_rule_8_routine_needs_the_branch_restriction_code():
    title, party, branch = _world()
    branch.integration.restriction_code_pf = None
    assert _check(title, party, branch).eligible  # manual: the user picks the reason
    verdict = _check(title, party, branch, criteria=Criteria(TODAY, require_branch_code=True))
    assert (verdict.code, verdict.reason) == (
        "no_restriction_code",
        "A integração da filial não tem código de restrição para pessoa física",
    )


def test_first_broken_rule_wins():
    verdict = _check(*_world(status="paid", disputed=True, due_date=TODAY))
    assert verdict.code == "paid"
