"""Users and passwords (API tokens: app/services/settings/api_tokens.py, re-exported here)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import Role, User
from app.models.base import utcnow
from app.services.core import audit
from app.services.core.errors import Conflict, NotFound, ValidationError
from app.services.settings.api_tokens import (  # noqa: F401  (callers import them from here)
    create_api_token,
    revoke_api_token,
    user_for_token,
)
from app.services.settings.passwords import password_problem
from app.services.settings.sessions import end_all_sessions

USERNAME_RE = re.compile(r"^[a-z0-9_.-]{3,64}$")
# Verified when the login names no usable account, so unknown, inactive and wrong-password logins
# all cost one hash of the same kind and answer in the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password-000")


def _validate(username: str, password: str | None, role: str, *, name: str = "", email: str | None = None
              ) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username or ""):
        errors["username"] = "Use de 3 a 64 caracteres: letras minúsculas, números, ponto, hífen ou sublinhado."
    if password is not None:
        problem = password_problem(password, username=username, name=name, email=email)
        if problem:
            errors["password"] = problem
    if role not in {r.value for r in Role}:
        errors["role"] = "Perfil inválido."
    return errors


def create_user(
    session: Session, actor: audit.Actor, *, username: str, name: str, password: str, role: str,
    email: str | None = None,
) -> User:
    username = (username or "").strip().lower()
    errors = _validate(username, password, role, name=name, email=email)
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
    errors = _validate(user.username, password or None, role, name=name or user.name, email=email)
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
        user.must_change_password = False
        changes["password"] = "(alterada)"
    if password or "role" in changes or "active" in changes:
        # A reset password, a narrower role or a deactivation must not leave old sessions open.
        end_all_sessions(user)
    if changes:
        audit.record(session, actor, "user.update", "user", user.id, summary=f"Usuário {user.username} alterado",
                     details={"changes": changes})
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user when the password matches an active account; None otherwise, after the same work.

    Unknown, inactive and wrong-password logins each verify exactly one hash (the dummy one when
    there is no account) and take the same path, so neither the answer nor its time tells them apart.
    """
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    matches = check_password_hash(user.password_hash if user is not None else _DUMMY_HASH, password or "")
    if user is None or not matches or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def change_own_password(session: Session, user: User, current: str, new: str, confirm: str) -> None:
    """The user's own change (also the forced one after login): needs the current password."""
    errors: dict[str, str] = {}
    if not check_password_hash(user.password_hash, current or ""):
        errors["current"] = "Senha atual incorreta."
    if (new or "") != (confirm or ""):
        errors["confirm"] = "A confirmação não confere com a nova senha."
    elif current and new == current:
        errors["password"] = "A nova senha deve ser diferente da atual."
    else:
        problem = password_problem(new, username=user.username, name=user.name, email=user.email)
        if problem:
            errors["password"] = problem
    if errors:
        raise ValidationError("Não foi possível trocar a senha. Corrija os campos indicados.", field_errors=errors)
    user.password_hash = generate_password_hash(new)
    user.must_change_password = False
    end_all_sessions(user)
    audit.record(session, audit.Actor.for_user(user), "user.password_change", "user", user.id,
                 summary=f"Usuário {user.username} trocou a senha")
