"""What every web blueprint shares: the request's session, capability checks, form helpers."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlparse

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from app.request_scope import after_commit, db_session, discard_writes, end_snapshot, services
from app.services.core.audit import Actor
from app.services.core.permissions import Capability, allows
from app.services.settings import switches as app_settings

__all__ = ["Capability", "actor", "after_commit", "can", "checkbox", "credit_required", "db_session",
           "discard_writes", "end_snapshot", "page_args", "requires", "safe_next", "services"]


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


def credit_required(view):
    """Credit-analysis screens disappear and refuse when the global switch is off."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not app_settings.credit_analysis_enabled(db_session()):
            flash("A integração com análise de crédito está desativada.", "warning")
            return redirect(url_for("home.index"))
        return view(*args, **kwargs)

    return wrapped


def safe_next(target: str | None, default: str) -> str:
    # Only same-site relative paths: an open redirect would let a phishing link bounce through us.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not urlparse(target).netloc:
        return target
    if target and urlparse(target).netloc == request.host and urlparse(target).scheme in {"http", "https"}:
        parsed = urlparse(target)  # the Referer header is absolute; keep only our own host's path
        return parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return default


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
