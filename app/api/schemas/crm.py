"""Schemas: leads, prospects and clients, their contacts and credit consultations."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.models import Contact, Party

from .settings import AddressIn
from .types import Cursor, Id, InstantOut, Money, MoneyOut, NextCursor, Out, QId, QueryModel, StrictBody, q_int, text

CustomerStatus = Literal["PEN", "APV", "RPV"]
Document = text(18, description="CPF ou CNPJ, com ou sem pontuação.")


class PartyUpdate(AddressIn):
    """Fields left out keep their value (PUT and PATCH alike); null or "" clears an optional one.
    The address goes at the top level or inside `address`, as it comes back."""

    branch_id: Id | None = None
    name: text(Party.name.property.columns[0].type.length) = None
    email: text(254) | None = None
    document: Document | None = None
    state_registration: text(20) | None = None
    phone: text(20) | None = None
    mobile: text(20) | None = None
    address: AddressIn | None = None


class PartyCreate(PartyUpdate):
    name: text(200)


class AddressOut(Out):
    street: str | None
    number: str | None
    complement: str | None
    district: str | None
    city: str | None
    state: str | None
    zip: str | None


class PartyOut(Out):
    id: int
    stage: Literal["lead", "prospect", "client"]
    branch_id: int | None
    name: str
    email: str | None
    document: str | None = Field(description="Mascarado para o perfil viewer (LGPD).")
    document_kind: str | None
    state_registration: str | None
    phone: str | None
    mobile: str | None
    address: AddressOut
    notes: str | None
    status: str
    created_at: InstantOut | None
    became_prospect_at: InstantOut | None
    became_client_at: InstantOut | None


class PartiesQuery(QueryModel):
    q: text(200) = None
    branch_id: QId = None
    status: CustomerStatus = None
    sort: Literal["recent", "name"] = "recent"
    cursor: Cursor = None
    after: Cursor = Field(default=None, description="Obsoleto: o mesmo que cursor.", deprecated=True)
    limit: q_int(1, 200) = 50


class PartyList(Out):
    items: list[PartyOut]
    next_cursor: NextCursor


class ContactUpdate(StrictBody):
    name: text(Contact.name.property.columns[0].type.length) = None
    role: text(80) | None = None
    email: text(254) | None = None
    phone: text(20) | None = None
    document: Document | None = None


class ContactCreate(ContactUpdate):
    name: text(200)


class ContactOut(Out):
    id: int
    party_id: int
    name: str
    role: str | None
    email: str | None
    phone: str | None
    document: str | None
    document_kind: str | None


class ContactList(Out):
    items: list[ContactOut]
    next_cursor: None = Field(description="Sempre null: a lista vem inteira.")


class ConsultIn(StrictBody):
    contact_id: Id | None = Field(default=None, description="Consultar o documento deste contato.")
    purpose: Literal["cadastro", "limite", "renegociacao"] = "cadastro"
    force_new: bool = Field(default=False, description="true: nova consulta (cobrada) mesmo com uma recente.")
    confirm_possible_charge: bool = Field(
        default=False, description="true: confirma uma nova consulta quando a anterior ficou incerta "
                                   "(pode ter sido cobrada); sem isso, 409 consultation_possible_charge.")


class ReportOut(Out):
    name: str | None = Field(description="O nome que o bureau conhece para o documento.")
    register_name: str | None = Field(description="O nome do cadastro quando a consulta foi feita.")
    name_differs_from_register: bool = Field(
        description="O bureau conhece o documento por outro nome (caixa, acentos, pontuação e sufixos de empresa "
                    "ignorados): o documento pode estar no cadastro errado.")
    score: int | None
    risk_class: str | None
    restrictions: list[Any]
    restrictions_total: MoneyOut | None


class DecisionOut(Out):
    status: str
    credit_limit: MoneyOut | None
    reason: str | None
    overrode_suggestion: bool | None
    decided_by: str | None
    decided_at: InstantOut | None


class SuggestionOut(Out):
    status: str
    credit_limit: MoneyOut | None
    reasons: list[Any]


class FailureOut(Out):
    code: str | None
    message: str | None


class ConsultationOut(Out):
    id: int
    party_id: int
    contact_id: int | None
    branch_id: int
    status: Literal["pending", "success", "failed", "reused", "uncertain"]
    reused: bool
    reused_from_id: int | None
    retry_of_id: int | None
    force_new: bool
    purpose: str
    stage: str
    origin: str | None
    requested_by: str
    requested_at: InstantOut | None
    completed_at: InstantOut | None
    document: str | None
    document_kind: str
    protocol: str | None
    queried_at: InstantOut | None
    report: ReportOut | None
    cost: MoneyOut | None
    charged: bool
    possibly_charged: bool = Field(description="A resposta se perdeu depois que o bureau fez o trabalho: "
                                               "a consulta é incerta e pode ter sido cobrada.")
    error: FailureOut | None
    suggestion: SuggestionOut | None
    decision: DecisionOut | None
    anonymised_at: InstantOut | None
    message: str | None = Field(default=None, description="Resumo em português (ao consultar ou repetir).")


class ConsultationList(Out):
    items: list[ConsultationOut]
    next_cursor: None = Field(description="Sempre null: a lista vem inteira.")


class DecisionIn(StrictBody):
    status: CustomerStatus
    reason: text(2000, min_length=1)
    credit_limit: Money | None = None
