"""Users, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import ApiToken, Role, User
from app.models.base import utcnow
from app.services.core import audit
from app.services.core.errors import Conflict, NotFound, ValidationError

USERNAME_RE = re.compile(r"^[a-z0-9_.-]{3,64}$")
MIN_PASSWORD = 10
# A constant hash to compare against when the user does not exist, so timing does not reveal it.
_DUMMY_HASH = generate_password_hash("not-a-real-password-000")


def _validate(username: str, password: str | None, role: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username or ""):
        errors["username"] = "Use de 3 a 64 caracteres: letras minúsculas, números, ponto, hífen ou sublinhado."
    if password is not None and len(password) < MIN_PASSWORD:
        errors["password"] = f"A senha deve ter pelo menos {MIN_PASSWORD} caracteres."
    if role not in {r.value for r in Role}:
        errors["role"] = "Perfil inválido."
    return errors


def create_user(
    session: Session, actor: audit.Actor, *, username: str, name: str, password: str, role: str,
    email: str | None = None,
) -> User:
    username = (username or "").strip().lower()
    errors = _validate(username, password, role)
    if errors:
        raise ValidationError("Verifique os campos do usuário.", field_errors=errors)
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"Já existe um usuário com o login {username}.")
    user = User(username=username, name=name.strip() or username, email=email, role=role,
                password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, summary=f"Usuário {username} criado ({role})",
                 details={"username": username, "role": role})
    return user


def update_user(session: Session, actor: audit.Actor, user_id: int, *, name: str, role: str, active: bool,
                email: str | None = None, password: str | None = None) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Usuário não encontrado.")
    errors = _validate(user.username, password or None, role)
    if errors:
        raise ValidationError("Verifique os campos do usuário.", field_errors=errors)
    # An administrator who demotes or deactivates themself may leave nobody able to undo it.
    if actor.user_id == user.id and user.role == Role.ADMIN.value and (role != Role.ADMIN.value or not active):
        raise ValidationError("Você não pode remover o seu próprio acesso de administrador.")
    before = {"name": user.name, "role": user.role, "active": user.active, "email": user.email}
    user.name, user.role, user.active, user.email = name.strip() or user.username, role, active, email
    after = {"name": user.name, "role": user.role, "active": user.active, "email": user.email}
    changes = audit.diff(before, after)
    if password:
        user.password_hash = generate_password_hash(password)
        changes["password"] = "(alterada)"
    if changes:
        audit.record(session, actor, "user.update", "user", user.id, summary=f"Usuário {user.username} alterado",
                     details={"changes": changes})
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.active or not check_password_hash(user.password_hash, password or ""):
        return None
    user.last_login_at = utcnow()
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, actor: audit.Actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the row and the clear token, shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Dê um nome ao token (ex.: integração ERP).", field_errors={"name": "Obrigatório."})
    clear = "cd_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:80], token_hash=_hash_token(clear), prefix=clear[:10])
    session.add(token)
    session.flush()
    audit.record(session, actor, "api_token.create", "api_token", token.id,
                 summary=f"Token de API '{name}' criado para {user.username}")
    return token, clear


def revoke_api_token(session: Session, actor: audit.Actor, token_id: int, owner: User | None = None) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner.id):
        raise NotFound("Token não encontrado.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor, "api_token.revoke", "api_token", token.id,
                     summary=f"Token de API '{token.name}' revogado")


def user_for_token(session: Session, clear: str) -> User | None:
    if not clear:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(clear)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    token.last_used_at = utcnow()
    return token.user
