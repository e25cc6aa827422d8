"""Login and logout."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from app.services.core import audit
from app.services.settings import users

from .common import db_session, safe_next

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("Usuário", validators=[DataRequired(message="Informe o usuário.")])
    password = PasswordField("Senha", validators=[DataRequired(message="Informe a senha.")])


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
            login_user(user)
            return redirect(safe_next(request.args.get("next"), url_for("home.index")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("Você saiu do sistema.", "info")
    return redirect(url_for("auth.login"))
