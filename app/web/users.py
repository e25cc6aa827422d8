"""Settings > Usuários (admin) and Meus tokens de API (everyone)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.models import ApiToken, User
from app.models.users import ROLE_LABELS
from app.services.core.scopes import SCOPES, default_scopes
from app.services.settings import api_tokens
from app.services.settings import users as user_service

from .common import Capability, actor, checkbox, db_session, requires
from .errors import on_error

bp = Blueprint("users", __name__)


@bp.route("/configuracoes/usuarios")
@requires(Capability.MANAGE_SETTINGS)
def index():
    rows = db_session().scalars(select(User).order_by(User.username)).all()
    return render_template("users/index.html", users=rows, roles=ROLE_LABELS)


def _form(user: User | None, data, errors: dict[str, str]):
    return render_template("users/form.html", user=user, data=data, errors=errors, roles=ROLE_LABELS)


@bp.route("/configuracoes/usuarios/novo", methods=["GET", "POST"])
@on_error(form=lambda data, errors: _form(None, data, errors))
@requires(Capability.MANAGE_SETTINGS)
def new():
    if request.method == "POST":
        user_service.create_user(
            db_session(), actor(), username=request.form.get("username", ""), name=request.form.get("name", ""),
            password=request.form.get("password", ""), role=request.form.get("role", ""),
            email=request.form.get("email") or None)
        flash("Usuário criado.", "success")
        return redirect(url_for("users.index"))
    return _form(None, request.form, {})


@bp.route("/configuracoes/usuarios/<int:user_id>", methods=["GET", "POST"])
@on_error(form=lambda data, errors, user_id: _form(db_session().get(User, user_id), data, errors))
@requires(Capability.MANAGE_SETTINGS)
def edit(user_id: int):
    s = db_session()
    user = s.get(User, user_id)
    if user is None:
        flash("Usuário não encontrado.", "warning")
        return redirect(url_for("users.index"))
    if request.method == "POST":
        user_service.update_user(
            s, actor(), user_id, name=request.form.get("name", ""), role=request.form.get("role", ""),
            active=checkbox("active"), email=request.form.get("email") or None,
            password=request.form.get("password") or None)
        flash("Usuário salvo.", "success")
        return redirect(url_for("users.index"))
    data = {"username": user.username, "name": user.name, "email": user.email or "", "role": user.role,
            "active": user.active}
    return _form(user, data, {})


def _tokens_page(new_token: str | None = None, *, typed=None, errors=None):
    rows = db_session().scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())).all()
    # After a refusal the form shows what was typed and chosen, with each message next to its field.
    chosen = request.form.getlist("scopes") if typed is not None else default_scopes()
    return render_template("users/tokens.html", tokens=rows, new_token=new_token, scopes=SCOPES,
                           chosen=chosen, state=api_tokens.token_state, typed=typed, errors=errors)


@bp.route("/conta/tokens", methods=["GET", "POST"])
@on_error(form=lambda data, errors: _tokens_page(typed=data, errors=errors), status=422)
@login_required
def tokens():
    if request.method == "POST":
        _, new_token = user_service.create_api_token(
            db_session(), actor(), current_user, request.form.get("name", ""),
            scopes=request.form.getlist("scopes") if "scopes_shown" in request.form else None,
            expires_at=api_tokens.expiry_from_days(request.form.get("expires_days")))
        flash("Token criado. Copie-o agora: ele não será mostrado de novo.", "success")
        return _tokens_page(new_token)
    return _tokens_page()


@bp.route("/conta/tokens/<int:token_id>/revogar", methods=["POST"])
@on_error(redirect="users.tokens")
@login_required
def revoke(token_id: int):
    user_service.revoke_api_token(db_session(), actor(), token_id, owner=current_user)
    flash("Token revogado.", "success")
    return redirect(url_for("users.tokens"))
