"""The consultation policy's pure rules: suggestion, windows, quota, retention, validation (no I/O)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.services.consultations.policy import parse_policy, policy_as_form
from app.services.consultations.rules import (
    ConsultationPolicyValues,
    month_bounds,
    parse_classes,
    quota_exceeded,
    retention_cutoff,
    reuse_cutoff,
    suggest,
)
from app.services.core.errors import ValidationError

BR = dt.timezone(dt.timedelta(hours=-3))
POLICY = ConsultationPolicyValues(
    approve_min_score=700,
    reject_below_score=300,
    approve_risk_classes=("A", "B"),
    reject_risk_classes=("E",),
    max_restrictions_for_approval=Decimal("100.00"),
    approved_limit=Decimal("5000.00"),
    pending_limit=Decimal("500.00"),
)


@pytest.mark.parametrize(
    ("score", "risk", "restrictions", "status", "limit"),
    [
        (900, "A", "0", "APV", "5000.00"),
        (700, "B", "100.00", "APV", "5000.00"),  # thresholds are inclusive
        (700, "B", "100.01", "PEN", "500.00"),  # restrictions above the maximum
        (699, "A", "0", "PEN", "500.00"),  # score below approval
        (950, "C", "0", "PEN", "500.00"),  # class outside approval
        (299, "A", "0", "RPV", "0.00"),  # score in the rejection band
        (300, "C", "0", "PEN", "500.00"),
        (990, "E", "0", "RPV", "0.00"),  # class in the rejection band wins over a high score
    ],
)
def test_suggestion_bands(score, risk, restrictions, status, limit):
    s = suggest(POLICY, score, risk, Decimal(restrictions))
    assert (s.status, s.limit) == (status, Decimal(limit))
    assert s.reasons  # always says why


def test_suggestion_reasons_name_each_missed_threshold():
    s = suggest(POLICY, 650, "c", Decimal("250.00"))
    assert s.status == "PEN" and len(s.reasons) == 3
    assert "score 650 abaixo de 700" in s.reasons[0]
    assert "classe de risco C" in s.reasons[1]
    assert "R$ 250,00 acima do máximo de R$ 100,00" in s.reasons[2]  # pt-BR money in what a person reads


def test_reuse_cutoff_is_start_of_day_in_sao_paulo_and_zero_turns_reuse_off():
    cutoff = reuse_cutoff(dt.date(2026, 11, 23), 30)
    assert cutoff == dt.datetime(2026, 10, 24, 0, 0, tzinfo=BR)
    assert cutoff.astimezone(dt.UTC) == dt.datetime(2026, 10, 24, 3, 0, tzinfo=dt.UTC)
    assert reuse_cutoff(dt.date(2026, 11, 23), 0) is None


def test_month_bounds_across_year_end():
    start, end = month_bounds(dt.date(2026, 12, 31))
    assert (start, end) == (dt.datetime(2026, 12, 1, tzinfo=BR), dt.datetime(2027, 1, 1, tzinfo=BR))
    start, end = month_bounds(dt.date(2028, 2, 29))
    assert (start.date(), end.date()) == (dt.date(2028, 2, 1), dt.date(2028, 3, 1))


def test_quota_and_retention():
    assert not quota_exceeded(ConsultationPolicyValues(monthly_quota=None), 10_000)
    assert not quota_exceeded(ConsultationPolicyValues(monthly_quota=3), 2)
    assert quota_exceeded(ConsultationPolicyValues(monthly_quota=3), 3)
    assert retention_cutoff(dt.date(2026, 11, 23), 365) == dt.datetime(2025, 11, 23, tzinfo=BR)


def test_parse_classes():
    assert parse_classes("b, a;A  c") == ("A", "B", "C")
    assert parse_classes(["e"]) == ("E",)
    assert parse_classes("") == ()


def test_validation_messages():
    errors = ConsultationPolicyValues(
        reuse_days=400,
        monthly_quota=0,
        cost_per_consultation=Decimal("-1"),
        retention_days=10,
        approve_min_score=1200,
        approve_risk_classes=("A", "Z"),
        reject_risk_classes=("A",),
        pending_limit=Decimal("-5"),
    ).validate()
    assert set(errors) == {
        "reuse_days",
        "monthly_quota",
        "cost_per_consultation",
        "retention_days",
        "approve_min_score",
        "approve_risk_classes",
        "reject_risk_classes",
        "pending_limit",
    }
    assert errors["approve_risk_classes"] == "Classes de risco inválidas: Z (use A a E)."
    assert "aprovar e reprovar" in errors["reject_risk_classes"]
    assert ConsultationPolicyValues(retention_days=30, reuse_days=31).validate() == {
        "retention_days": "A retenção não pode ser menor que a janela de reaproveitamento."
    }
    assert ConsultationPolicyValues(reject_below_score=800).validate() == {
        "reject_below_score": "O score de reprovação deve ser menor ou igual ao de aprovação."
    }
    assert ConsultationPolicyValues().validate() == {}


def test_form_round_trip_and_parse_errors():
    form = policy_as_form(ConsultationPolicyValues(monthly_quota=50, cost_per_consultation=Decimal("4.9")))
    assert form["monthly_quota"] == "50" and form["cost_per_consultation"] == "4,90"
    assert form["approve_risk_classes"] == "A,B"
    assert parse_policy(form) == ConsultationPolicyValues(monthly_quota=50, cost_per_consultation=Decimal("4.90"))
    assert parse_policy({**form, "monthly_quota": ""}).monthly_quota is None
    with pytest.raises(ValidationError) as info:
        parse_policy({**form, "reuse_days": "trinta", "approved_limit": "muito"})
    assert info.value.field_errors == {
        "reuse_days": "Informe um número inteiro.",
        "approved_limit": "Informe um valor em reais, por exemplo 1.500,00.",
    }


# --- the client's own overdue titles cap the suggestion (rule 16 with the debts owed here) ---------
def test_own_overdue_title_at_the_limit_caps_an_approval_at_pending_with_zero_limit():
    policy = ConsultationPolicyValues(overdue_block_days=30, approved_limit=Decimal("1000.00"))
    s = suggest(policy, 900, "A", Decimal("0.00"), own_overdue_days=45)
    assert (s.status, s.limit) == ("PEN", Decimal("0.00"))
    assert "vencido há 45 dias" in s.reasons[0] and s.rule == "títulos vencidos nesta empresa"
    assert suggest(policy, 900, "A", Decimal("0.00"), own_overdue_days=30).status == "PEN"
    assert suggest(policy, 900, "A", Decimal("0.00"), own_overdue_days=29).status == "APV"


def test_own_overdue_titles_are_not_weighed_when_the_policy_turns_it_off_and_never_soften_a_rejection():
    off = ConsultationPolicyValues(overdue_block_days=0)
    assert suggest(off, 900, "A", Decimal("0.00"), own_overdue_days=400).status == "APV"
    rejected = suggest(ConsultationPolicyValues(), 100, "E", Decimal("0.00"), own_overdue_days=90)
    assert (rejected.status, rejected.rule) == ("RPV", "faixa de reprovação")


def test_overdue_block_days_out_of_range_is_refused():
    assert "overdue_block_days" in ConsultationPolicyValues(overdue_block_days=-1).validate()
    assert "overdue_block_days" not in ConsultationPolicyValues(overdue_block_days=0).validate()
