"""Login and logout."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from app.services.core import audit
from app.services.settings import users

from .common import db_session

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("Usuário", validators=[DataRequired(message="Informe o usuário.")])
    password = PasswordField("Senha", validators=[DataRequired(message="Informe a senha.")])


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: an open redirect would let a phishing link bounce through us.
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        session = db_session()
        user = users.authenticate(session, form.username.data, form.password.data)
        if user is None:
            flash("Usuário ou senha incorretos.", "danger")
        else:
            audit.record(session, audit.Actor.for_user(user), "auth.login", "user", user.id, summary="Login")
            session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("Você saiu do sistema.", "info")
    return redirect(url_for("auth.login"))
