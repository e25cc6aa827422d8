"""What every web blueprint shares: the request's session, capability checks, form helpers."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.credit_switch import credit_switch_on
from app.models import Branch
from app.request_args import MAX_PAGE, bounded_int, form_id, id_arg
from app.request_scope import after_commit, db_session, discard_writes, end_snapshot, services
from app.safe_redirect import safe_next  # the one safe-redirect helper, re-exported for the views
from app.services.core.audit import Actor
from app.services.core.permissions import Capability, allows

__all__ = ["Capability", "actor", "after_commit", "can", "checkbox", "credit_enabled", "credit_required", "db_session",
           "discard_writes", "end_snapshot", "form_id", "id_arg", "page_args", "request_branches", "requires",
           "safe_next", "services"]


def actor() -> Actor:
    return Actor.for_user(current_user)


def can(capability: Capability | str) -> bool:
    """Whether the logged-in user has `capability` (also the templates' `can(...)`)."""
    return current_user.is_authenticated and allows(current_user.role, capability)


def requires(capability: Capability):
    """Login, then 403 unless the user's role has `capability` (app.services.core.permissions)."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(capability):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def request_branches(active_only: bool = False) -> list:
    """Every branch by name (rows of id, name, cnpj, active), read once per request: the list filters
    and the print header (`print_header`) both need them, and a branch table holds a handful of rows.
    Plain rows, not ORM objects: a rollback in the request (end_snapshot) cannot expire them."""
    if "request_branches" not in g:
        g.request_branches = db_session().execute(
            select(Branch.id, Branch.name, Branch.cnpj, Branch.active).order_by(Branch.name, Branch.id)).all()
    return [b for b in g.request_branches if b.active] if active_only else list(g.request_branches)


def credit_enabled() -> bool:
    """The credit-analysis switch, read once per request (the menu, the party tabs and
    `credit_required` all ask), from the app's copy of at most `CACHE_SECONDS` (app.credit_switch): the
    settings page that changes it clears that copy and redirects, so no request renders it stale."""
    if "credit_enabled" not in g:
        g.credit_enabled = credit_switch_on(db_session())
    return g.credit_enabled


def credit_required(view):
    """Credit-analysis screens disappear and refuse when the global switch is off."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not credit_enabled():
            flash("A integração com análise de crédito está desativada.", "warning")
            return redirect(url_for("home.index"))
        return view(*args, **kwargs)

    return wrapped


def page_args(default_size: int = 50, max_size: int = 200, args=None) -> tuple[int, int]:
    """(page, per_page) of the request's query, or of `args` (a list's query shown again after a POST)."""
    return (bounded_int("page", 1, lo=1, hi=MAX_PAGE, args=args),
            bounded_int("per_page", default_size, lo=1, hi=max_size, args=args))


def checkbox(name: str) -> bool:
    return request.form.get(name) in {"y", "on", "1", "true", "sim"}
