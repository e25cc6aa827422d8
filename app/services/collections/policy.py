"""Parâmetros de Cobrança per branch: validation and storage."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import Branch, CollectionPolicy
from app.models.collections import MIN_DAYS_TO_EXECUTE
from app.services.core import audit
from app.services.core.errors import NotFound, ValidationError

RUN_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
GROUPINGS = {"client": "Uma negativação por cliente (todos os títulos elegíveis)",
             "title": "Uma negativação por título"}


@dataclass(frozen=True)
class CollectionPolicyInput:
    enabled: bool
    handle_by_title: bool
    days_to_execute: str | int
    grouping: str
    run_time: str
    max_concurrency: str | int = 4
    rate_limit_per_s: str | int | None = None


def policy_for(session: Session, branch_id: int) -> CollectionPolicy:
    """The stored row, or an unsaved one with the defaults (never enabled by default)."""
    row = session.get(CollectionPolicy, branch_id)
    if row is None:
        row = CollectionPolicy(branch_id=branch_id, enabled=False, handle_by_title=True,
                               days_to_execute=MIN_DAYS_TO_EXECUTE, grouping="client", run_time="06:00",
                               max_concurrency=4, rate_limit_per_s=None)
    return row


MAX_RATE_PER_S = 1000


def _int(value, field: str, errors: dict[str, str], label: str) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = f"Informe {label} como número inteiro."
        return None


def save_collection_policy(session: Session, actor: audit.Actor, branch_id: int,
                           data: CollectionPolicyInput) -> CollectionPolicy:
    if session.get(Branch, branch_id) is None:
        raise NotFound("Filial não encontrada.")
    errors: dict[str, str] = {}
    days = _int(data.days_to_execute, "days_to_execute", errors, "os dias para executar")
    if days is not None and days < MIN_DAYS_TO_EXECUTE:
        # Rule 2 (minimum days overdue): the bureau integration requires 60 days for the routine.
        errors["days_to_execute"] = (f"Dias para executar deve ser no mínimo {MIN_DAYS_TO_EXECUTE}: com menos "
                                     "dias a rotina não negativa (regra do Crédito na Medida).")
    if days is not None and days > 1800:
        errors["days_to_execute"] = "Dias para executar acima de 5 anos: o título já estaria prescrito."
    if data.grouping not in GROUPINGS:
        errors["grouping"] = "Escolha o agrupamento."
    run_time = (data.run_time or "").strip()
    if not RUN_TIME_RE.match(run_time):
        errors["run_time"] = "Informe o horário no formato HH:MM (ex.: 06:00)."
    concurrency = _int(data.max_concurrency, "max_concurrency", errors, "a concorrência")
    if concurrency is not None and not 1 <= concurrency <= 32:
        errors["max_concurrency"] = "A concorrência deve ficar entre 1 e 32."
    rate = None
    if data.rate_limit_per_s not in (None, ""):
        rate = _int(data.rate_limit_per_s, "rate_limit_per_s", errors, "o limite de requisições")
        # An upper bound as well: past the column's integer range the save was a database error.
        if rate is not None and not 1 <= rate <= MAX_RATE_PER_S:
            errors["rate_limit_per_s"] = (f"O limite deve ficar entre 1 e {MAX_RATE_PER_S} requisições por "
                                          "segundo (ou em branco: sem limite).")
    if data.enabled and not data.handle_by_title:
        errors["handle_by_title"] = "A inclusão automática exige 'Trata cobrança por título' = Sim."
    if errors:
        raise ValidationError("Parâmetros de cobrança não salvos. Corrija os campos indicados.", field_errors=errors)
    row = session.get(CollectionPolicy, branch_id)
    before = {} if row is None else _snapshot(row)
    if row is None:
        row = CollectionPolicy(branch_id=branch_id)
        session.add(row)
    row.enabled, row.handle_by_title, row.days_to_execute = data.enabled, data.handle_by_title, days
    row.grouping, row.run_time, row.max_concurrency, row.rate_limit_per_s = data.grouping, run_time, concurrency, rate
    session.flush()
    audit.record(session, actor, "settings.collection_policy", "collection_policy", branch_id, branch_id=branch_id,
                 summary="Parâmetros de cobrança alterados",
                 details={"changes": audit.diff(before, _snapshot(row))})
    return row


def _snapshot(row: CollectionPolicy) -> dict:
    return {f: getattr(row, f) for f in ("enabled", "handle_by_title", "days_to_execute", "grouping", "run_time",
                                         "max_concurrency", "rate_limit_per_s")}


def blockers(policy: CollectionPolicy, branch: Branch, *, scheduled: bool = True) -> list[str]:
    """Why the routine would not include anything at this branch (empty = ready).

    `enabled` is the daily automatic run; a run asked for by a person ("Executar agora") needs
    everything else but not the daily schedule.
    """
    out = []
    if scheduled and not policy.enabled:
        out.append("A execução diária da rotina de cobrança está desligada para a filial.")
    if not policy.handle_by_title:
        out.append("'Trata cobrança por título' precisa ser Sim.")
    integration = branch.integration
    if integration is None:
        out.append("A filial não tem integração de análise de crédito vinculada.")
    else:
        if not integration.auto_include_remove:
            out.append("A integração está com 'Incluir/Remover automaticamente' = Não.")
        if not integration.restriction_code_pf or not integration.restriction_code_pj:
            out.append("A integração não tem os códigos de restrição de CPF e CNPJ escolhidos.")
    return out
