"""Minha conta › Senha: the user's own password change, also forced after a login with a weak one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from app.services.settings import users as user_service
from app.services.settings.passwords import POLICY_TEXT

from .common import db_session
from .errors import on_error

bp = Blueprint("account", __name__)

# What a user who must change the password may still reach (the API uses tokens, not this session).
_ALLOWED_WHILE_FORCED = {"account.password", "auth.logout", "auth.login", "static"}


@bp.before_app_request
def _require_password_change():
    if request.blueprint == "api" or request.endpoint in _ALLOWED_WHILE_FORCED:
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        flash("Troque a sua senha para continuar.", "warning")
        return redirect(url_for("account.password"))
    return None


def _form(errors: dict[str, str], status: int = 200):
    return render_template("auth/password.html", errors=errors, policy=POLICY_TEXT,
                           forced=current_user.must_change_password), status


@bp.route("/conta/senha", methods=["GET", "POST"])
# The form again with the reasons; nothing was written.
@on_error(form=lambda data, errors: _form(errors)[0], status=422)
@login_required
def password():
    if request.method == "POST":
        s = db_session()
        user_service.change_own_password(s, current_user, request.form.get("current", ""),
                                         request.form.get("password", ""), request.form.get("confirm", ""))
        login_user(current_user)  # the change ended every session; this one continues with the new version
        flash("Senha alterada. As outras sessões abertas com a senha antiga foram encerradas.", "success")
        return redirect(url_for("home.index"))
    return _form({})
