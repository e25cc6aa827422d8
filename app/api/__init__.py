"""JSON API /api/v1: bearer-token auth, JSON errors with a stable code and a pt-BR message."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from app.extensions import csrf
from app.request_scope import db_session
from app.services.core.audit import Actor
from app.services.core.errors import DomainError, ValidationError
from app.services.settings import switches as app_settings
from app.services.settings import users

from .errors import http_error_json
from .openapi import docs_bp
from .validation import guard_json_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    user = users.user_for_token(db_session(), token)
    if user is None:
        return error(401, "unauthorized", "Token de API ausente, inválido ou revogado.")
    db_session().commit()  # last_used_at
    g.api_user = user


bp.before_request(guard_json_body)  # after _authenticate: a stranger's body is never parsed


def api_actor() -> Actor:
    return Actor.for_user(g.api_user, via="api")


def require_roles(*roles: str):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not g.api_user.has_role(*roles):
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
    extra = {}
    if isinstance(exc, ValidationError) and exc.field_errors:
        extra["fields"] = exc.field_errors
    db_session().rollback()
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
        negativations_api,
        settings_api,
        titles_api,
    )

    csrf.exempt(bp)  # token auth, no cookies: CSRF does not apply
    csrf.exempt(docs_bp)
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)  # no token: the contract and its docs page are public
