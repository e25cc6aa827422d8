"""Configurações › Usuários › Tokens de API (admin): a user's tokens with scopes, last use and expiry.

This is where the commerce platform's credential is made: a token of the platform's user with only
the commerce scopes (see docs/security.md).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.models import User
from app.services.core.scopes import COMMERCE_SCOPES, SCOPES, default_scopes
from app.services.settings import api_tokens as token_service

from .common import Capability, actor, db_session, requires
from .errors import on_error

bp = Blueprint("api_tokens", __name__)


def _user(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _page(user: User, *, new_token: str | None = None, chosen: list[str] | None = None, typed=None, errors=None):
    return render_template("users/user_tokens.html", user=user, new_token=new_token,
                           tokens=token_service.tokens_of(db_session(), user.id), scopes=SCOPES,
                           chosen=chosen if chosen is not None else default_scopes(),
                           commerce_scopes=COMMERCE_SCOPES, state=token_service.token_state,
                           typed=typed, errors=errors)


@bp.route("/configuracoes/usuarios/<int:user_id>/tokens")
@requires(Capability.MANAGE_SETTINGS)
def index(user_id: int):
    return _page(_user(user_id))


@bp.route("/configuracoes/usuarios/<int:user_id>/tokens", methods=["POST"])
# The page again with the reason (a missing name or scope, an expiry out of range); nothing written.
@on_error(form=lambda data, errors, user_id: _page(_user(user_id), chosen=request.form.getlist("scopes"),
                                                  typed=data, errors=errors),
          status=422)
@requires(Capability.MANAGE_SETTINGS)
def create(user_id: int):
    user = _user(user_id)
    s = db_session()
    _, clear = token_service.create_api_token(
        s, actor(), user, request.form.get("name", ""), scopes=request.form.getlist("scopes"),
        expires_at=token_service.expiry_from_days(request.form.get("expires_days")))
    flash("Token criado. Copie-o agora: ele não será mostrado de novo.", "success")
    return _page(user, new_token=clear)


@bp.route("/configuracoes/usuarios/<int:user_id>/tokens/<int:token_id>/revogar", methods=["POST"])
@on_error(redirect="api_tokens.index")
@requires(Capability.MANAGE_SETTINGS)
def revoke(user_id: int, token_id: int):
    s = db_session()
    token_service.revoke_api_token(s, actor(), token_id, owner=_user(user_id))
    flash("Token revogado.", "success")
    return redirect(url_for("api_tokens.index", user_id=user_id))
