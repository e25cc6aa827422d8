"""Branches (filiais) and their Crédito na Medida integration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import AddressMixin, Base, TimestampMixin


class BureauIntegration(Base, TimestampMixin):
    """Credentials and options for one bureau account. The secret is stored encrypted (Fernet)."""

    __tablename__ = "bureau_integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    provider: Mapped[str] = mapped_column(String(32), default="credito_na_medida")
    environment: Mapped[str] = mapped_column(String(16), default="homologacao")  # producao | homologacao
    base_url: Mapped[str] = mapped_column(String(300))
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    # Cached OAuth token: shared by every process through this row; never editable by a person.
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[dt.datetime | None]
    auto_include_remove: Mapped[bool] = mapped_column(default=False)
    restriction_code_pf: Mapped[str | None] = mapped_column(String(16))
    restriction_code_pj: Mapped[str | None] = mapped_column(String(16))
    # Last fetched reason lists, so the form can show the descriptions without a bureau call.
    reasons_cache: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    reasons_fetched_at: Mapped[dt.datetime | None]
    last_test_at: Mapped[dt.datetime | None]
    last_test_ok: Mapped[bool | None]
    last_test_message: Mapped[str | None] = mapped_column(String(500))

    branches: Mapped[list[Branch]] = relationship(back_populates="integration")


class Branch(Base, AddressMixin, TimestampMixin):
    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    cnpj: Mapped[str] = mapped_column(String(14), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    bureau_integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("bureau_integrations.id", ondelete="SET NULL"), index=True
    )

    integration: Mapped[BureauIntegration | None] = relationship(back_populates="branches")
