"""Settings > Usuários (admin) and Meus tokens de API (everyone)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.models import ApiToken, User
from app.models.users import ROLE_LABELS
from app.services.core.errors import DomainError
from app.services.core.scopes import SCOPES, default_scopes
from app.services.settings import api_tokens
from app.services.settings import users as user_service

from .common import actor, checkbox, db_session, flash_domain_error, roles_required

bp = Blueprint("users", __name__)


@bp.route("/configuracoes/usuarios")
@roles_required("admin")
def index():
    rows = db_session().scalars(select(User).order_by(User.username)).all()
    return render_template("users/index.html", users=rows, roles=ROLE_LABELS)


@bp.route("/configuracoes/usuarios/novo", methods=["GET", "POST"])
@roles_required("admin")
def new():
    errors: dict[str, str] = {}
    if request.method == "POST":
        s = db_session()
        try:
            user_service.create_user(
                s, actor(), username=request.form.get("username", ""), name=request.form.get("name", ""),
                password=request.form.get("password", ""), role=request.form.get("role", ""),
                email=request.form.get("email") or None)
            s.commit()
            flash("Usuário criado.", "success")
            return redirect(url_for("users.index"))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
    return render_template("users/form.html", user=None, data=request.form, errors=errors, roles=ROLE_LABELS)


@bp.route("/configuracoes/usuarios/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(user_id: int):
    s = db_session()
    user = s.get(User, user_id)
    if user is None:
        flash("Usuário não encontrado.", "warning")
        return redirect(url_for("users.index"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if user.id == current_user.id and (request.form.get("role") != "admin" or not checkbox("active")):
                raise user_service.ValidationError("Você não pode remover o seu próprio acesso de administrador.")
            user_service.update_user(
                s, actor(), user_id, name=request.form.get("name", ""), role=request.form.get("role", ""),
                active=checkbox("active"), email=request.form.get("email") or None,
                password=request.form.get("password") or None)
            s.commit()
            flash("Usuário salvo.", "success")
            return redirect(url_for("users.index"))
        except DomainError as exc:
            s.rollback()
            errors = flash_domain_error(exc)
        data = request.form
    else:
        data = {"username": user.username, "name": user.name, "email": user.email or "", "role": user.role,
                "active": user.active}
    return render_template("users/form.html", user=user, data=data, errors=errors, roles=ROLE_LABELS)


@bp.route("/conta/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    s = db_session()
    new_token = None
    if request.method == "POST":
        try:
            _, new_token = user_service.create_api_token(
                s, actor(), current_user, request.form.get("name", ""),
                scopes=request.form.getlist("scopes") if "scopes_shown" in request.form else None,
                expires_at=api_tokens.expiry_from_days(request.form.get("expires_days")))
            s.commit()
            flash("Token criado. Copie-o agora: ele não será mostrado de novo.", "success")
        except DomainError as exc:
            s.rollback()
            flash_domain_error(exc)
    rows = s.scalars(select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())).all()
    return render_template("users/tokens.html", tokens=rows, new_token=new_token, scopes=SCOPES,
                           chosen=default_scopes(), state=api_tokens.token_state)


@bp.route("/conta/tokens/<int:token_id>/revogar", methods=["POST"])
@login_required
def revoke(token_id: int):
    s = db_session()
    try:
        user_service.revoke_api_token(s, actor(), token_id, owner=current_user)
        s.commit()
        flash("Token revogado.", "success")
    except DomainError as exc:
        s.rollback()
        flash_domain_error(exc)
    return redirect(url_for("users.tokens"))
