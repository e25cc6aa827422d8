"""JSON API /api/v1: bearer-token auth, JSON errors with a stable code and a pt-BR message."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from app.db import transaction
from app.extensions import csrf
from app.request_scope import db_session, rollback_request, services
from app.services.core.audit import Actor
from app.services.core.errors import DomainError, ValidationError
from app.services.core.permissions import Capability, allows
from app.services.settings import api_tokens
from app.services.settings import switches as app_settings

from .errors import http_error_json
from .openapi import docs_bp
from .scopes import NO_SCOPE, scope_for
from .validation import guard_json_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token:
        return error(401, "unauthorized", "Token de API ausente, inválido, expirado ou revogado.")
    # Its own short transaction: the token's last use is kept whatever the request's outcome, and
    # the request's session starts clean (no write lock held while the view calls the bureau).
    with transaction(services().session_factory) as s:
        row = api_tokens.token_for(s, token)
    if row is None:
        return error(401, "unauthorized", "Token de API ausente, inválido, expirado ou revogado.")
    g.api_user, g.api_token = row.user, row
    scope = scope_for(request.endpoint)
    if scope is None or (scope != NO_SCOPE and scope not in (row.scopes or [])):
        # An unlisted route is refused too: a new route must be given a scope before any token reaches it.
        return error(403, "insufficient_scope", f"Este token não tem o escopo necessário ({scope or 'não mapeado'}).",
                     required_scope=scope)


bp.before_request(guard_json_body)  # after _authenticate: a stranger's body is never parsed


def api_actor() -> Actor:
    return Actor.for_user(g.api_user, via="api")


def require(capability: Capability):
    """403 unless the token's user has `capability` (app.services.core.permissions)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not allows(g.api_user.role, capability):
                return error(403, "forbidden", "Seu perfil não permite esta operação.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require_credit(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        app_settings.require_credit_analysis(db_session())
        return view(*args, **kwargs)

    return wrapped


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("O corpo da requisição deve ser um objeto JSON.", code="invalid_json")
    return data


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    """Every API DomainError: nothing of the request is kept; the body carries the code, the pt-BR
    message, the field errors and the error's details (e.g. a failed consultation's id)."""
    rollback_request()
    extra = {k: v for k, v in exc.details.items() if k != "fields"}
    if isinstance(exc, ValidationError) and exc.field_errors:
        extra["fields"] = exc.field_errors
    return error(exc.http_status, exc.code, exc.message, **extra)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return http_error_json(exc)


def register_api(app: Flask) -> None:
    # Each module's routes attach to bp when imported.
    from . import (  # noqa: F401
        collections_api,
        commerce_api,
        credit_api,
        crm_api,
        dashboard_api,
        events_api,
        integrations_api,
        negativations_api,
        reconciliation_api,
        settings_api,
        titles_api,
    )

    csrf.exempt(bp)  # token auth, no cookies: CSRF does not apply
    csrf.exempt(docs_bp)
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)  # no token: the contract and its docs page are public
