"""Builders shared by the CRM and consultation tests (not fixtures: plain functions on `services`)."""

from __future__ import annotations

import datetime as dt

from app.db import transaction
from app.demo.crm import make_cnpj, make_cpf
from app.models import Consultation
from app.services.consultations.policy import save_policy
from app.services.consultations.rules import ConsultationPolicyValues
from app.services.core.audit import Actor
from app.services.crm import parties
from app.services.settings import branches
from app.services.settings import bureau_integrations as bureau_settings

TEST_ACTOR = Actor.system("test")
BRANCH_CNPJ = "11222333000181"
OTHER_BRANCH_CNPJ = "12ABC34501DE35"

__all__ = ["make_cnpj", "make_cpf", "make_branch", "make_party", "set_policy", "backdate"]


def make_branch(services, *, name: str = "Filial Centro", cnpj: str = BRANCH_CNPJ, integration: bool = True,
                base_url: str = "http://127.0.0.1:5999", client_id: str = "demo-client",
                client_secret: str = "demo-secret") -> int:
    with transaction(services.session_factory) as s:
        integration_id = None
        if integration:
            integration_id = bureau_settings.save_integration(
                s, services.box, TEST_ACTOR, bureau_settings.IntegrationInput(
                    name=f"CnM {name}", environment="homologacao", base_url=base_url, client_id=client_id,
                    client_secret=client_secret, auto_include_remove=False)).id
        return branches.save_branch(s, TEST_ACTOR, branches.BranchInput(
            name=name, cnpj=cnpj, street="Av. Paulista", number="1000", district="Bela Vista",
            city="São Paulo", state="SP", zip="01310100", bureau_integration_id=integration_id)).id


def make_party(services, branch_id: int, *, stage: str = "lead", name: str = "Maria da Silva",
               document: str | None = None, seed: int = 1, email: str = "", **extra) -> int:
    with transaction(services.session_factory) as s:
        return parties.create_party(s, TEST_ACTOR, parties.PartyInput(
            branch_id=branch_id, name=name, email=email,
            document=make_cpf(seed) if document is None else document,
            street="Rua das Flores", number="10", district="Centro", city="São Paulo", state="SP",
            zip="01001000", **extra), stage=stage).id


def set_policy(services, branch_id: int, **values) -> None:
    with transaction(services.session_factory) as s:
        save_policy(s, TEST_ACTOR, branch_id, ConsultationPolicyValues(**values))


def backdate(services, consultation_id: int, days: int) -> None:
    """Move a consultation `days` into the past (requested and completed)."""
    with transaction(services.session_factory) as s:
        row = s.get(Consultation, consultation_id)
        delta = dt.timedelta(days=days)
        row.requested_at -= delta
        if row.completed_at:
            row.completed_at -= delta
