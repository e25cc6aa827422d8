"""Per-branch consultation policy: read (with defaults) and save (admin), with an audit event."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.models import Branch, ConsultationPolicy
from app.services.consultations.rules import ConsultationPolicyValues, parse_classes
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import NotFound, ValidationError
from app.services.core.money import decimal_br, parse_money

INT_FIELDS = ("reuse_days", "retention_days", "approve_min_score", "reject_below_score", "overdue_block_days")
MONEY_FIELDS = ("cost_per_consultation", "max_restrictions_for_approval", "approved_limit", "pending_limit")
CLASS_FIELDS = ("approve_risk_classes", "reject_risk_classes")


def policy_for(session: Session, branch_id: int) -> ConsultationPolicyValues:
    """The branch's consultation policy in force (the defaults when it never saved one)."""
    return ConsultationPolicyValues.from_row(session.get(ConsultationPolicy, branch_id))


def policy_as_form(values: ConsultationPolicyValues) -> dict[str, str]:
    """Values as the form shows them (classes 'A,B', money with a comma, blank quota)."""
    data: dict[str, str] = {}
    for f in dataclasses.fields(values):
        value = getattr(values, f.name)
        if f.name in CLASS_FIELDS:
            data[f.name] = ",".join(value)
        elif f.name in MONEY_FIELDS:
            data[f.name] = decimal_br(value)
        else:
            data[f.name] = "" if value is None else str(value)
    return data


def policy_as_json(values: ConsultationPolicyValues) -> dict[str, Any]:
    data = dataclasses.asdict(values)
    for name in MONEY_FIELDS:
        data[name] = str(data[name])
    for name in CLASS_FIELDS:
        data[name] = list(data[name])
    return data


def parse_policy(raw: Mapping[str, Any]) -> ConsultationPolicyValues:
    """Form or JSON values -> ConsultationPolicyValues; raises ValidationError with pt-BR field errors."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    defaults = ConsultationPolicyValues()
    for name in INT_FIELDS:
        text = str(raw.get(name, getattr(defaults, name))).strip()
        try:
            values[name] = int(text)
        except ValueError:
            errors[name] = "Informe um número inteiro."
    quota = raw.get("monthly_quota")
    if quota in (None, ""):
        values["monthly_quota"] = None
    else:
        try:
            values["monthly_quota"] = int(str(quota).strip())
        except ValueError:
            errors["monthly_quota"] = "Informe um número inteiro ou deixe em branco."
    for name in MONEY_FIELDS:
        try:
            values[name] = parse_money(raw.get(name, getattr(defaults, name)))
        except ValueError:
            errors[name] = "Informe um valor em reais, por exemplo 1.500,00."
    for name in CLASS_FIELDS:
        values[name] = parse_classes(raw.get(name, getattr(defaults, name)))
    if not errors:
        errors = ConsultationPolicyValues(**values).validate()
    if errors:
        raise ValidationError("Não foi possível salvar a política de consultas. Corrija os campos indicados.",
                              field_errors=errors)
    return ConsultationPolicyValues(**values)


def save_policy(session: Session, actor: audit.Actor, branch_id: int,
                values: ConsultationPolicyValues) -> ConsultationPolicy:
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("Filial não encontrada.")
    errors = values.validate()
    if errors:
        raise ValidationError("Não foi possível salvar a política de consultas. Corrija os campos indicados.",
                              field_errors=errors)
    row = session.get(ConsultationPolicy, branch_id)
    before = policy_as_json(ConsultationPolicyValues.from_row(row))
    if row is None:
        row = ConsultationPolicy(branch_id=branch_id)
        session.add(row)
    for f in dataclasses.fields(values):
        value = getattr(values, f.name)
        setattr(row, f.name, ",".join(value) if f.name in CLASS_FIELDS else value)
    row.updated_at = now_utc()
    row.updated_by = actor.name
    session.flush()
    changes = audit.diff(before, policy_as_json(values))
    audit.record(session, actor, "settings.consultation_policy", "branch", branch_id, branch_id=branch_id,
                 summary=f"Política de consultas da filial '{branch.name}' alterada",
                 details={"changes": changes})
    return row
