"""CRM people: one row per person or company that moves lead → prospect → client.

A single table with a `stage` column: converting a lead keeps its id, so every consultation,
contact and history row stays attached without copying (the prospect keeps the lead's
consultations).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .base import AddressMixin, Base, TimestampMixin
from .search_text import fold_words


class Stage(enum.StrEnum):
    LEAD = "lead"
    PROSPECT = "prospect"
    CLIENT = "client"


STAGE_LABELS = {Stage.LEAD: "Lead", Stage.PROSPECT: "Prospect", Stage.CLIENT: "Cliente"}


class CustomerStatus(enum.StrEnum):
    """Rule 19 (customer status): PEN pre-approved (initial), APV approved, RPV rejected."""

    PEN = "PEN"
    APV = "APV"
    RPV = "RPV"


STATUS_LABELS = {
    CustomerStatus.PEN: "PEN — pré-aprovado",
    CustomerStatus.APV: "APV — aprovado",
    CustomerStatus.RPV: "RPV — reprovado",
}


class Party(Base, AddressMixin, TimestampMixin):
    __tablename__ = "parties"
    __table_args__ = (
        UniqueConstraint("branch_id", "document"),
        UniqueConstraint("branch_id", "external_id"),
        CheckConstraint("stage in ('lead','prospect','client')", name="stage"),
        CheckConstraint("status in ('PEN','APV','RPV')", name="status"),
        Index("ix_parties_stage_name", "stage", "name"),
        Index("ix_parties_stage_id", "stage", "id"),
        Index("ix_parties_document", "document"),
        Index("ix_parties_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10), default=Stage.LEAD.value)
    name: Mapped[str] = mapped_column(String(200))
    # fold_words(name), for the lists' name search by any word, accents ignored. Set with the name:
    # by the ORM (`_fold_name`), on Core inserts by this default, and by Core updates explicitly.
    search_name: Mapped[str | None] = mapped_column(
        String(400), default=lambda ctx: fold_words(ctx.get_current_parameters().get("name")))
    email: Mapped[str | None] = mapped_column(String(254))
    document: Mapped[str | None] = mapped_column(String(14))  # normalised CPF/CNPJ, always text
    document_kind: Mapped[str | None] = mapped_column(String(4))  # CPF | CNPJ
    state_registration: Mapped[str | None] = mapped_column(String(20))  # inscrição estadual
    phone: Mapped[str | None] = mapped_column(String(20))
    mobile: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    # Customer status for B2B selling (rule 19 (customer status)); every new customer starts PEN.
    status: Mapped[str] = mapped_column(String(3), default=CustomerStatus.PEN.value)
    external_id: Mapped[str | None] = mapped_column(String(64))  # commerce platform's customer id
    became_prospect_at: Mapped[dt.datetime | None]
    became_client_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    branch = relationship("Branch")
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="party", cascade="all, delete-orphan", order_by="Contact.id"
    )

    @validates("name")
    def _fold_name(self, _key: str, value: str) -> str:
        self.search_name = fold_words(value)
        return value

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[Stage(self.stage)]

    @property
    def person_type(self) -> str | None:
        return {"CPF": "PF", "CNPJ": "PJ"}.get(self.document_kind or "")

    def missing_address_fields(self) -> list[str]:
        """Fields the bureau needs to post the notice letter (CDC art. 43 §2, Súmula 359 STJ)."""
        labels = {
            "street": "logradouro", "number": "número", "district": "bairro",
            "city": "cidade", "state": "UF", "zip": "CEP",
        }
        return [label for field, label in labels.items() if not (getattr(self, field) or "").strip()]


class Contact(Base, TimestampMixin):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    document: Mapped[str | None] = mapped_column(String(14))
    document_kind: Mapped[str | None] = mapped_column(String(4))

    party: Mapped[Party] = relationship(back_populates="contacts")
