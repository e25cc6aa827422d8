"""Schemas: who am I, branches, the credit-analysis switch (the integrations: schemas/integrations.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.models import Branch

from .types import Id, InstantOut, Out, StrictBody, text, text_for

Role = Literal["admin", "finance", "crm", "viewer"]


class MeOut(Out):
    id: int
    username: str
    name: str
    role: Role
    credit_analysis_enabled: bool
    scopes: list[str] = Field(description="Os escopos deste token (app/services/core/scopes.py).")
    token_expires_at: InstantOut | None = Field(description="Quando este token expira; null se não expira.")


class AddressIn(StrictBody):
    """Address fields as typed (formatting is cleaned by the service); at most the column's length,
    a little more where the stored value drops punctuation (CEP "01310-100")."""

    street: text(200) | None = None
    number: text(20) | None = None
    complement: text(100) | None = None
    district: text(100) | None = None
    city: text(100) | None = None
    state: text(2) | None = None
    zip: text(10) | None = None


class BranchIn(AddressIn):
    name: text_for(Branch.name, min_length=1)
    cnpj: text(18, min_length=1, description="CNPJ, com ou sem pontuação.")
    active: bool = True
    bureau_integration_id: Id | None = None


class BranchOut(Out):
    id: int
    name: str
    cnpj: str
    state: str | None
    city: str | None
    active: bool
    bureau_integration_id: int | None


class BranchList(Out):
    items: list[BranchOut]
    next_cursor: None = Field(description="Sempre null: a lista vem inteira.")


class SwitchIn(StrictBody):
    enabled: bool


class SwitchOut(Out):
    enabled: bool
