"""What every web blueprint shares: the request's session, role checks, domain-error mapping."""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from app.bootstrap import Services
from app.services import app_settings
from app.services.audit import Actor
from app.services.errors import DomainError, ValidationError

ALL_ROLES = ("admin", "finance", "crm", "viewer")


def services() -> Services:
    return current_app.extensions["credit_desk"]


def db_session() -> Session:
    """One session per request, closed at teardown (rolled back if the view did not commit)."""
    if "db_session" not in g:
        # Deferred (plain BEGIN): views often read here, then call services that write in their own
        # short transactions; holding SQLite's write lock for the whole request would block them.
        g.db_session = services().session_factory()
    return g.db_session


def actor() -> Actor:
    return Actor.for_user(current_user)


def roles_required(*roles: str):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def credit_required(view):
    """Credit-analysis screens disappear and refuse when the global switch is off (seed 003)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not app_settings.credit_analysis_enabled(db_session()):
            flash("A integração com análise de crédito está desativada.", "warning")
            return redirect(url_for("home.index"))
        return view(*args, **kwargs)

    return wrapped


def flash_domain_error(exc: DomainError) -> dict[str, str]:
    """Show the message; return field errors for the form to highlight."""
    flash(exc.message, "danger")
    return exc.field_errors if isinstance(exc, ValidationError) else {}


def page_args(default_size: int = 50, max_size: int = 200) -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    try:
        size = min(max_size, max(1, int(request.args.get("per_page", default_size))))
    except ValueError:
        size = default_size
    return page, size


def checkbox(name: str) -> bool:
    return request.form.get(name) in {"y", "on", "1", "true", "sim"}
