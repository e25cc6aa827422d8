"""Login and logout."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from app.models import User
from app.safe_redirect import safe_next
from app.services.settings.login import attempt_login
from app.services.settings.sessions import end_all_sessions

from .common import db_session, services

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("Usuário", validators=[DataRequired(message="Informe o usuário.")])
    password = PasswordField("Senha", validators=[DataRequired(message="Informe a senha.")])


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} segundo{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minuto{'s' if minutes != 1 else ''}"


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = attempt_login(services().session_factory, form.username.data, form.password.data,
                               request.remote_addr)
        if result.ok:
            login_user(result.user)
            if result.user.must_change_password:
                flash("Sua senha não atende mais à política de senhas. Escolha uma nova para continuar.", "warning")
                return redirect(url_for("account.password"))
            return redirect(safe_next(request.args.get("next"), url_for("home.index")))
        if result.status == "throttled":
            # Same words whether or not the account exists: the throttle counts names, not users.
            flash(f"Muitas tentativas de login. Aguarde {_wait_text(result.retry_after_s)} e tente de novo.",
                  "danger")
            status = 429
        else:
            flash("Usuário ou senha incorretos.", "danger")
    response = render_template("auth/login.html", form=form), status
    if status == 429:
        return (*response, {"Retry-After": str(result.retry_after_s)})
    return response


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Ends this user's sessions everywhere (other browsers, a copied cookie), not just this one.
    s = db_session()
    user = s.get(User, current_user.id)
    if user is not None:
        end_all_sessions(user)  # committed with the request (app/request_scope.py)
    logout_user()
    flash("Você saiu do sistema.", "info")
    return redirect(url_for("auth.login"))
