"""How an /api/v1 operation declares its contract: `@schema(...)` (pydantic v2 models through spectree).

    @bp.put("/collections/policies/<int:branch_id>")
    @require(Capability.MANAGE_SETTINGS)
    @schema(body=PolicyIn, ok=PolicyOut, errors=(403, 404))
    def put_collection_policy(branch_id: int): ...

`@schema` goes last (closest to the function) so that authentication and role checks answer before
the input is looked at. It validates the query string and the JSON body before the view runs (a
refusal is a 422 `validation_error` with pt-BR messages per field), validates the answer when
API_VALIDATE_RESPONSES is on (the test suite), and registers the operation in the OpenAPI document:
only decorated operations are published there.

Before any of that, `guard_json_body` (a before_request of the blueprint) bounds what reaches
Flask's JSON parser: the body size (API_JSON_MAX_BYTES, 413) and the nesting depth (json_too_deep,
400; Python's parser otherwise overflows the stack on a 50,000-deep array and answers 500), and
turns a malformed body into 400 `invalid_json` instead of an empty object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from flask import current_app, request
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.plugins.flask_plugin import FlaskPlugin

from app.services.core.errors import DomainError, ValidationError

from .schemas.common import ErrorBody

API_JSON_MAX_BYTES = 256 * 1024
MAX_JSON_DEPTH = 16
# 404 and 405: an id past the id range (2^31 - 1) does not match the route (the URL converter refuses it), so any
# operation with a path id may answer as an unknown address does.
COMMON_ERRORS = (400, 401, 404, 405, 413, 415, 422, 429, 500)
ERROR_DESCRIPTIONS = {
    400: "JSON malformado ou profundo demais",
    401: "Token ausente, inválido ou revogado",
    403: "Perfil sem permissão, ou análise de crédito desativada",
    404: "Registro ou endereço não encontrado",
    405: "Método não permitido neste endereço",
    409: "Conflito com o estado atual",
    413: "Corpo grande demais",
    415: "Tipo de conteúdo não aceito",
    422: "Entrada recusada (veja `fields`)",
    429: "Limite de requisições atingido",
    500: "Erro inesperado",
    424: "O bureau recusou a chamada ou a resposta se perdeu (código `bureau_*`)",
    503: "O bureau está indisponível ou limitou as chamadas (`bureau_unavailable`, `bureau_rate_limited`)",
}
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class ApiPlugin(FlaskPlugin):
    """Spectree's Flask plugin, validating answers only when the app asks for it (the suite does;
    production does not pay for it nor turn an already committed write into a 500)."""

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        if not current_app.config.get("API_VALIDATE_RESPONSES", current_app.testing):
            skip_validation = True
        return super().validate_response(resp, resp_model, skip_validation, force_resp_serialize)


class ResponseContractBroken(RuntimeError):
    """An answer did not match its documented schema (a bug: the suite fails on it)."""


def _before(req, resp, req_validation_error, instance, model_adapter) -> None:
    if req_validation_error is not None:
        raise ValidationError("Dados inválidos. Corrija os campos indicados.",
                              field_errors=field_errors(req_validation_error.errors()))


def _after(req, resp, resp_validation_error, instance, model_adapter) -> None:
    if resp_validation_error is not None:
        raise ResponseContractBroken(f"{req.method} {req.path}: {resp_validation_error}")


spec = SpecTree(
    "flask", backend=ApiPlugin, mode="strict", annotations=False, before=_before, after=_after,
    validation_error_status=422, validation_error_model=ErrorBody,
    # Component names are the models' names (unique across app/api/schemas), not name.hash.
    naming_strategy=lambda model: model.__name__, nested_naming_strategy=lambda _parent, child: child,
    title="credit-desk API", version="1",
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(
        type="http", scheme="bearer", description="Token de API (cd_...), criado por usuário."))],
    security={"bearer": []},
)

_MESSAGES = {
    "missing": "Campo obrigatório.",
    "extra_forbidden": "Campo desconhecido.",
    "bool_type": "Use true ou false.",
    "int_type": "Informe um número inteiro.",
    "int_parsing": "Informe um número inteiro.",
    "int_from_float": "Informe um número inteiro.",
    "string_type": "Informe um texto.",
    "list_type": "Informe uma lista.",
    "dict_type": "Informe um objeto.",
    "model_type": "Informe um objeto.",
    "model_attributes_type": "Informe um objeto.",
}


def _message(err: dict) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "string_too_long":
        return f"No máximo {ctx.get('max_length')} caracteres."
    if kind == "string_too_short":
        return "Campo obrigatório." if ctx.get("min_length") == 1 else f"No mínimo {ctx.get('min_length')} caracteres."
    if kind == "too_long":
        return f"No máximo {ctx.get('max_length')} itens."
    if kind == "too_short":
        return f"No mínimo {ctx.get('min_length')} item(ns)."
    if kind in ("greater_than_equal", "greater_than"):
        return f"Informe no mínimo {ctx.get('ge', ctx.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"Informe no máximo {ctx.get('le', ctx.get('lt'))}."
    if kind in ("enum", "literal_error"):
        return f"Valor inválido; use {ctx.get('expected')}."
    if kind == "string_pattern_mismatch":
        return "Formato inválido (veja o exemplo da documentação)."
    if kind.endswith(("_format", "_range")):  # our own PydanticCustomError, already in pt-BR
        return err["msg"]
    return "Valor inválido."


def field_errors(errors: Iterable[dict]) -> dict[str, str]:
    """pydantic errors -> {"campo": "mensagem"}; nested fields as `address.zip`, items as `title_ids.0`."""
    out: dict[str, str] = {}
    for err in errors:
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        out.setdefault(loc, _message(err))
    return out


# operationId -> OpenAPI fields spectree cannot express (a body that is not JSON, a CSV answer)
EXTRA_OPERATION_FIELDS: dict[str, dict[str, Any]] = {}


def schema(*, query: Any = None, body: Any = None, ok: Any = None, status: int = 200,
           errors: Iterable[int] = (), tags: Iterable[str] = (), more: dict[int, Any] | None = None,
           deprecated: bool = False, optional_body: bool = False, raw_body: dict | None = None,
           raw_answer: dict | None = None) -> Any:
    """Declare an operation: `query` and `body` models in, `ok` model out with `status` (None = no
    body, e.g. 204), the error statuses it may answer besides COMMON_ERRORS, and other successes.
    `optional_body`: the body may be left out. `raw_body` / `raw_answer`: OpenAPI `content` of a
    body or answer that is not JSON (validated by the view itself, e.g. XML or CSV)."""
    codes: dict[str, Any] = {f"HTTP_{status}": ok}
    for code, model in (more or {}).items():
        codes[f"HTTP_{code}"] = model
    for code in sorted({*COMMON_ERRORS, *errors}):
        codes[f"HTTP_{code}"] = (ErrorBody, ERROR_DESCRIPTIONS[code])

    def decorator(view):
        extra: dict[str, Any] = {}
        if optional_body:
            extra["requestBody.required"] = False
        if raw_body:
            extra["requestBody"] = {"required": True, "content": raw_body}
        if raw_answer:
            extra[f"responses.{status}.content"] = raw_answer
        if extra:
            EXTRA_OPERATION_FIELDS[view.__name__] = extra
        return spec.validate(query=query, json=body, resp=Response(**codes), tags=tuple(tags),
                             deprecated=deprecated, operation_id=view.__name__)(view)

    return decorator


def declared_body(view: Any) -> bool:
    metadata = spec.get_function_metadata(view) if view is not None else None
    return metadata is not None and metadata.json is not None


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """True if the JSON text nests arrays/objects deeper than `limit` (strings ignored)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKETS.finditer(_STRING.sub(b'""', raw)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def guard_json_body() -> None:
    """before_request: bound, parse and cache the JSON body of operations that declare one."""
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method not in ("POST", "PUT", "PATCH") or not declared_body(view):
        return
    request.max_content_length = int(current_app.config.get("API_JSON_MAX_BYTES", API_JSON_MAX_BYTES))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") or (
            request.mimetype and request.mimetype != "application/json" and not request.mimetype.endswith("+json")
            and request.mimetype != "text/plain"):
        raise UnsupportedBody()
    raw = request.get_data(cache=True)  # 413 past max_content_length
    if not raw.strip():
        data: Any = None
    else:
        if json_depth_exceeds(raw, MAX_JSON_DEPTH):
            raise DomainError(f"JSON aninhado demais (no máximo {MAX_JSON_DEPTH} níveis).", code="json_too_deep")
        try:
            data = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise DomainError("O corpo da requisição não é um JSON válido.", code="invalid_json") from None
        if not isinstance(data, dict):
            raise DomainError("O corpo da requisição deve ser um objeto JSON.", code="invalid_json")
    # Werkzeug's cache of get_json(): spectree and the views read this parsed value whatever the
    # Content-Type (integrators that omit it keep working), and nothing parses the body twice.
    request._cached_json = (data, data)


class UnsupportedBody(DomainError):
    code = "unsupported_media_type"
    http_status = 415

    def __init__(self):
        super().__init__("Envie o corpo como JSON (Content-Type: application/json).")
