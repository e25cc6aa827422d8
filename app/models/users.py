"""Users, their roles, and API tokens."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    FINANCE = "finance"
    CRM = "crm"
    VIEWER = "viewer"


ROLE_LABELS = {
    Role.ADMIN: "Administrador",
    Role.FINANCE: "Financeiro",
    Role.CRM: "CRM",
    Role.VIEWER: "Somente leitura",
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default=Role.VIEWER.value)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]
    # Server-side session revocation: the version is part of the session cookie's user id, so raising
    # it (logout, password change, role change, deactivation) ends every session of the user at once.
    session_version: Mapped[int] = mapped_column(default=0)
    # Set at login when the stored password no longer meets the policy; the web asks for a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # Flask-Login keeps this in the session; app/services/settings/sessions.py checks the version.
        return f"{self.id}:{self.session_version or 0}"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(Role(self.role), self.role)


class ApiToken(Base):
    """A bearer token for the JSON API. Only a SHA-256 of the token is stored.

    `scopes` narrow what the token may call (app/services/core/scopes.py); the user's role still
    applies on top. A token past `expires_at` is refused like a revoked one.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    expires_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")
