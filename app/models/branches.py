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
    token_issued_at: Mapped[dt.datetime | None]  # with the expiry, the lifetime: renewed at min(60 s, 10%)
    # The token endpoint refused these credentials (invalid_client): no process asks again for a minute.
    token_refused_at: Mapped[dt.datetime | None]
    token_refusal_message: Mapped[str | None] = mapped_column(String(500))
    auto_include_remove: Mapped[bool] = mapped_column(default=False)
    restriction_code_pf: Mapped[str | None] = mapped_column(String(16))
    restriction_code_pj: Mapped[str | None] = mapped_column(String(16))
    # Last fetched reason lists, so the form can show the descriptions without a bureau call.
    reasons_cache: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    reasons_fetched_at: Mapped[dt.datetime | None]
    last_test_at: Mapped[dt.datetime | None]
    last_test_ok: Mapped[bool | None]
    last_test_message: Mapped[str | None] = mapped_column(String(500))
    # Circuit breaker (app/services/settings/bureau_breaker.py): while open, no bureau call of this
    # integration leaves; state "credentials" (credentials refused) or "outage" (only 5xx/timeouts).
    breaker_state: Mapped[str | None] = mapped_column(String(12))
    breaker_opened_at: Mapped[dt.datetime | None]
    breaker_retry_at: Mapped[dt.datetime | None]  # the next probe
    breaker_probes: Mapped[int] = mapped_column(default=0)  # failed probes since it opened (backoff)
    breaker_message: Mapped[str | None] = mapped_column(String(500))
    outage_since: Mapped[dt.datetime | None]  # first failure of the current run of 5xx/timeouts
    outage_failures: Mapped[int] = mapped_column(default=0)

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
