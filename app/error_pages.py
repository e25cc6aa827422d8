"""Error answers for the whole app: JSON under /api/, pt-BR pages everywhere else.

Registered last in create_app, so these app-level handlers are the ones Flask uses for errors that
no blueprint handles (they replace the 400/403/404/413 handlers app/web registers before them):
routing errors (an unknown address or method has no blueprint, even under /api/v1), Werkzeug's
413, CSRF failures and unexpected exceptions (500).
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.api.errors import http_error_json, unexpected_error_json

log = logging.getLogger(__name__)

PAGES = {
    400: ("errors/400.html", None),
    403: ("errors/403.html", None),
    404: ("errors/404.html", None),
    405: ("errors/405.html", None),
    413: ("errors/400.html", "Arquivo ou requisição grande demais."),
}
CSRF_MESSAGE = ("O formulário expirou ou não foi enviado por esta página (token de segurança CSRF ausente ou "
                "inválido).")


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _http_error(exc: HTTPException):
    if _is_api():
        return http_error_json(exc)
    status = exc.code or 500
    if status >= 500:
        return _server_error(exc)
    template, message = PAGES.get(status, ("errors/400.html", None))
    return render_template(template, message=message or "Não foi possível processar a requisição."), status


def _csrf_error(exc: CSRFError):
    if _is_api():
        return http_error_json(exc)
    return render_template("errors/400.html", message=CSRF_MESSAGE), 400


def _server_error(exc: Exception):
    original = getattr(exc, "original_exception", None) or exc
    if _is_api():
        return unexpected_error_json(original)
    if not isinstance(original, HTTPException):
        log.exception("unexpected error", exc_info=original)
    # A page of its own, not base.html: the menu reads the database, which may be what failed.
    return render_template("errors/500.html"), 500


def register_error_pages(app: Flask) -> None:
    # Per status as well as generic: Flask prefers a handler registered for the status code.
    for status in (400, 403, 404, 405, 413):
        app.register_error_handler(status, _http_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(InternalServerError, _server_error)
