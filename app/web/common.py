"""What every web blueprint shares: the request's session, role checks, domain-error mapping."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from app.request_args import MAX_PAGE, bounded_int
from app.request_scope import db_session, services
from app.services.core.audit import Actor
from app.services.core.errors import DomainError, ValidationError
from app.services.core.permissions import ALL_ROLES
from app.services.settings import switches as app_settings

__all__ = ["ALL_ROLES", "actor", "checkbox", "credit_required", "db_session", "flash_domain_error", "page_args",
           "roles_required", "services"]


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
    return (bounded_int("page", 1, lo=1, hi=MAX_PAGE),
            bounded_int("per_page", default_size, lo=1, hi=max_size))


def checkbox(name: str) -> bool:
    return request.form.get(name) in {"y", "on", "1", "true", "sim"}
