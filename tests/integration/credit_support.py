"""Helpers for the credit tests: branches, clients, policies, committed in their own sessions."""

from __future__ import annotations

from decimal import Decimal

from app.db import transaction
from app.models import Branch, Party
from app.services.core.audit import Actor
from app.services.credit import accounts as credit_accounts
from app.services.credit import policy as credit_policies
from integrations.commerce.samples import cnpj_for

FINANCE = Actor("financeiro", None, "finance")
ADMIN = Actor("admin", None, "admin")
CRM = Actor("crm", None, "crm")
CPF = "52998224725"
BRANCH_CNPJ = "11222333000181"


def make_branch(services, cnpj: str = BRANCH_CNPJ, name: str = "Distribuidora Matriz") -> int:
    with transaction(services.session_factory) as s:
        branch = Branch(name=name, cnpj=cnpj, state="SP")
        s.add(branch)
        s.flush()
        return branch.id


def make_client(services, branch_id: int, *, document: str = CPF, status: str = "APV", name: str = "Cliente",
                limit: str | None = None, tolerance: str | None = None, stage: str = "client",
                external_id: str | None = None) -> int:
    with transaction(services.session_factory) as s:
        party = Party(branch_id=branch_id, stage=stage, name=name, document=document,
                      document_kind="CPF" if len(document) == 11 else "CNPJ", status=status, external_id=external_id)
        s.add(party)
        s.flush()
        if limit is not None:
            credit_accounts.set_limit(s, FINANCE, party.id, limit, "limite inicial", tolerance_pct=tolerance)
        return party.id


def set_policy(services, branch_id: int, **overrides) -> None:
    values = {"pen_can_buy_upfront": True, "tolerance_enabled": False, "restore_mode": "payment",
              "installment_terms": ["7", "28", "45", "30/60", "30/60/90"], "reservation_business_days": 5,
              "platform_url": "", "platform_secret": None, "protected_fields": []}
    values.update(overrides)
    with transaction(services.session_factory) as s:
        credit_policies.save_policy(s, services.box, ADMIN, branch_id, credit_policies.CreditPolicyInput(**values))


def summary(services, party_id: int) -> credit_accounts.CreditSummary:
    with services.session_factory() as s:
        return credit_accounts.summary_for(s, s.get(Party, party_id))


def cnpj(n: int) -> str:
    return cnpj_for(n)


def money(text: str) -> Decimal:
    return Decimal(text)
