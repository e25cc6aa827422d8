"""Credit consultations at the bureau: who asked, for whom, why, what came back (domain rules 13-16).

A row is written as `pending` and committed BEFORE the bureau is called, then completed as
`success` or `failed` in a new transaction (no transaction open during the call). A consultation
answered from an earlier report inside the branch's reuse window (rule 14) is a row of its own with
status `reused`, a link to the report it shows, no bureau call and no charge.

Only the bureau fields the report needs are kept (rule 15: no raw body); after the branch's
retention period `anonymised_at` is set and the personal fields are cleared.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .search_text import name_key


class ConsultationStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"
    REUSED = "reused"
    # The bureau may have done (and charged) it but the answer was lost: counts toward the quota.
    UNCERTAIN = "uncertain"


CONSULTATION_STATUS_LABELS = {
    ConsultationStatus.PENDING: "Em andamento",
    ConsultationStatus.SUCCESS: "Concluída",
    ConsultationStatus.FAILED: "Falhou",
    ConsultationStatus.REUSED: "Reaproveitada",
    ConsultationStatus.UNCERTAIN: "Incerta — pode ter sido cobrada",
}

# Rule 13: the purpose is part of the record (LGPD art. 7 X, credit protection).
PURPOSES = {
    "cadastro": "Análise de crédito para cadastro",
    "limite": "Definição ou revisão de limite de crédito",
    "renegociacao": "Negociação de dívida",
}
DEFAULT_PURPOSE = "cadastro"


class Consultation(Base):
    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint("status in ('pending','success','failed','reused','uncertain')", name="status"),
        CheckConstraint("decision_status is null or decision_status in ('PEN','APV','RPV')",
                        name="decision_status"),
        # Reuse window: the latest successful report of a document at a branch since an instant.
        Index("ix_consultations_reuse", "branch_id", "document", "status", "completed_at"),
        # Per-person history, newest first.
        Index("ix_consultations_party_requested", "party_id", "requested_at"),
        # Monthly quota: a branch's consultations requested in a month.
        Index("ix_consultations_branch_requested", "branch_id", "requested_at"),
        # Retention: rows not yet anonymised, oldest first.
        Index("ix_consultations_retention", "anonymised_at", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))  # who asked, kept if the user is removed
    document: Mapped[str | None] = mapped_column(String(14))  # cleared on anonymisation
    document_kind: Mapped[str] = mapped_column(String(4))  # CPF | CNPJ
    purpose: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(10))  # the person's stage when asked
    origin: Mapped[str | None] = mapped_column(String(20))  # leads, contato, prospect, cliente, api
    status: Mapped[str] = mapped_column(String(10), default=ConsultationStatus.PENDING.value)
    reused_from_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id"))
    force_new: Mapped[bool] = mapped_column(default=False)  # a new, charged one asked explicitly
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id"))

    # The report (rule 15: only what the report shows).
    protocol: Mapped[str | None] = mapped_column(String(64))
    subject_name: Mapped[str | None] = mapped_column(String(200))  # the name the bureau knows
    # The name in our register when it was consulted (the party's or the contact's): compared with
    # the bureau's, a different name warns that the document may be typed on the wrong person.
    register_name: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[int | None]
    risk_class: Mapped[str | None] = mapped_column(String(2))
    restrictions: Mapped[list[Any] | None] = mapped_column(default=None)  # creditor, kind, date, amount
    restrictions_count: Mapped[int | None]
    restrictions_total: Mapped[Decimal | None]
    queried_at: Mapped[dt.datetime | None]  # the bureau's own time of the query

    cost: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    charged: Mapped[bool] = mapped_column(default=False)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]

    # Rule 16: the policy suggests, a person decides (LGPD art. 20).
    suggested_status: Mapped[str | None] = mapped_column(String(3))
    suggested_limit: Mapped[Decimal | None]
    suggestion_reasons: Mapped[list[Any] | None] = mapped_column(default=None)
    decision_status: Mapped[str | None] = mapped_column(String(3))
    decision_limit: Mapped[Decimal | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decision_overrode: Mapped[bool | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None]

    anonymised_at: Mapped[dt.datetime | None]

    party = relationship("Party")
    contact = relationship("Contact")
    branch = relationship("Branch")
    reused_from: Mapped[Consultation | None] = relationship(
        remote_side=[id], foreign_keys=[reused_from_id])

    @property
    def status_label(self) -> str:
        return CONSULTATION_STATUS_LABELS[ConsultationStatus(self.status)]

    @property
    def purpose_label(self) -> str:
        return PURPOSES.get(self.purpose, self.purpose)

    @property
    def has_report(self) -> bool:
        shown = (ConsultationStatus.SUCCESS, ConsultationStatus.REUSED)
        return self.status in shown and self.anonymised_at is None

    @property
    def bureau_name_differs(self) -> bool:
        """The bureau knows the document under another name than our register's (case, accents,
        punctuation and company suffixes aside): the report may not be about this person."""
        if not self.subject_name or not self.register_name:
            return False
        return name_key(self.subject_name) != name_key(self.register_name)
