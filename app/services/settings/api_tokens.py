"""API tokens: created with scopes and an optional expiry, listed per user, revoked.

Only a SHA-256 of the token is stored (a token is 256 random bits, so a fast hash is enough: there
is nothing to brute-force). The clear token is returned once, at creation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken, User
from app.models.base import utcnow
from app.services.core import audit
from app.services.core.errors import NotFound, ValidationError
from app.services.core.scopes import default_scopes, normalize_scopes

MAX_EXPIRY_DAYS = 3650
# last_used_at is written at most this often per token: an API client making many calls a second
# would otherwise turn every read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def expiry_from_days(days: int | str | None, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """`days` from now (1..3650), or None for a token that does not expire."""
    raw = str(days).strip() if days is not None else ""
    if not raw:
        return None
    # ASCII digits only: "²".isdigit() is true and int("²") a ValueError.
    if len(raw) > 6 or not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_EXPIRY_DAYS:
        raise ValidationError(f"A validade deve ser de 1 a {MAX_EXPIRY_DAYS} dias (ou em branco: sem validade).",
                              field_errors={"expires_days": f"De 1 a {MAX_EXPIRY_DAYS} dias, ou em branco."})
    return (now or utcnow()) + dt.timedelta(days=int(raw))


def create_api_token(session: Session, actor: audit.Actor, user: User, name: str, *,
                     scopes: Iterable[str] | None = None, expires_at: dt.datetime | None = None
                     ) -> tuple[ApiToken, str]:
    """Returns the row and the clear token, shown once and never stored.

    Without `scopes` the token gets every scope, i.e. whatever the user's role allows (the behaviour
    of tokens before scopes existed); an empty choice is refused rather than creating a useless token.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError("Dê um nome ao token (ex.: integração ERP).", field_errors={"name": "Obrigatório."})
    chosen = default_scopes() if scopes is None else normalize_scopes(scopes)
    if not chosen:
        raise ValidationError("Escolha ao menos um escopo para o token.", field_errors={"scopes": "Obrigatório."})
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationError("A validade do token já passou.", field_errors={"expires_days": "A validade já passou."})
    clear = "cd_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:80], token_hash=hash_token(clear), prefix=clear[:10],
                     scopes=chosen, expires_at=expires_at)
    session.add(token)
    session.flush()
    audit.record(session, actor, "api_token.create", "api_token", token.id,
                 summary=f"Token de API '{name}' criado para {user.username}",
                 details={"scopes": chosen, "expires_at": expires_at.isoformat() if expires_at else None})
    return token, clear


def revoke_api_token(session: Session, actor: audit.Actor, token_id: int, owner: User | None = None) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner.id):
        raise NotFound("Token não encontrado.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor, "api_token.revoke", "api_token", token.id,
                     summary=f"Token de API '{token.name}' revogado")
    return token


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())))


def token_state(token: ApiToken, now: dt.datetime | None = None) -> str:
    """'revoked', 'expired' or 'active'."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def token_for(session: Session, clear: str) -> ApiToken | None:
    """The live token row for a bearer value (not revoked, not expired, owner active), marking its use."""
    if not clear:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(clear)))
    now = utcnow()
    if token is None or token_state(token, now) != "active" or not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token


def user_for_token(session: Session, clear: str) -> User | None:
    token = token_for(session, clear)
    return token.user if token is not None else None
