"""Every non-success answer of /api/v1 is `{"error": {"code", "message", "fields"?}}`, in pt-BR.

Domain errors carry their own code and status (app/services/core/errors.py). This module covers
the rest: Werkzeug's HTTP errors (unknown route, wrong method, body too large, ...) and anything
unexpected (500), which would otherwise be Flask's English HTML pages.
"""

from __future__ import annotations

import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# status -> (stable code, pt-BR message)
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Requisição inválida."),
    401: ("unauthorized", "Token de API ausente, inválido ou revogado."),
    403: ("forbidden", "Seu perfil não permite esta operação."),
    404: ("not_found", "Recurso não encontrado."),
    405: ("method_not_allowed", "Método não permitido para este endereço."),
    406: ("not_acceptable", "Formato de resposta não disponível."),
    409: ("conflict", "Conflito com o estado atual do registro."),
    411: ("length_required", "Informe o tamanho do corpo (Content-Length)."),
    413: ("body_too_large", "Requisição grande demais."),
    414: ("uri_too_long", "Endereço grande demais."),
    415: ("unsupported_media_type", "Tipo de conteúdo não aceito."),
    422: ("validation_error", "Dados inválidos."),
    429: ("too_many_requests", "Muitas requisições; tente novamente em instantes."),
    431: ("headers_too_large", "Cabeçalhos grandes demais."),
    500: ("internal_error", "Erro inesperado. A equipe técnica foi avisada; tente novamente mais tarde."),
    501: ("not_implemented", "Operação não implementada."),
    503: ("unavailable", "Serviço indisponível no momento; tente novamente em instantes."),
}


def error_response(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def http_error_json(exc: HTTPException):
    status = exc.code or 500
    code, message = HTTP_ERRORS.get(status, HTTP_ERRORS[500] if status >= 500 else HTTP_ERRORS[400])
    response = error_response(status, code, message)
    if status == 405 and exc.valid_methods:  # keep the Allow header Werkzeug computed
        response[0].headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def unexpected_error_json(exc: Exception):
    log.exception("unexpected error in the API", exc_info=exc)
    return error_response(500, *HTTP_ERRORS[500])
