"""The contract, served: /api/v1/openapi.json (OpenAPI 3.1) and /api/v1/docs (Swagger UI, offline).

Both answer without a token: the document describes operations, never data, and the docs page
must be able to load it before anyone pastes a token into "Authorize". Swagger UI's files come
from the `flask-swagger-ui` package (Swagger UI 5, which renders OpenAPI 3.1) and are served by
the app itself: no CDN at run time. The page's own script is a static file, so the app's
Content-Security-Policy (`script-src 'self'`) stays as it is.
"""

from __future__ import annotations

import copy
from importlib.resources import files
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template_string, send_from_directory

from app.services.core.ids import MAX_ID
from app.services.events.schemas import WEBHOOKS

from .validation import EXTRA_OPERATION_FIELDS, MAX_JSON_DEPTH, spec

docs_bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")
SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png")

DESCRIPTION = f"""API JSON do credit-desk (birô de crédito e cobrança).

**Autenticação**: `Authorization: Bearer <token>`. Cada usuário cria seus tokens em *Tokens de API*
(menu do usuário) ou com `creditdesk create-token --username <usuário>`; o token age com o perfil do
usuário (admin, finance, crm, viewer). Sem token válido: 401.

**Erros**: toda resposta que não é sucesso tem o corpo
`{{"error": {{"code": "...", "message": "...", "fields": {{"campo": "..."}}}}}}`: `code` é estável
(para programas), `message` está em português (para pessoas) e `fields` aparece quando a entrada foi
recusada (422), com o erro de cada campo.

**Entrada**: campos desconhecidos são recusados; booleanos são `true`/`false`; ids são inteiros
positivos até 2147483647; valores em reais são textos `"1234.56"` (até 2 casas); datas são `AAAA-MM-DD`.
O corpo JSON tem no máximo 256 KiB e {MAX_JSON_DEPTH} níveis de aninhamento.

**Paginação**: toda lista responde `{{"items": [...], "next_cursor": "..." | null}}`. Para a próxima
página, repita a consulta com `?cursor=<next_cursor>` (e o mesmo `limit`); `next_cursor` nulo indica a
última página. O cursor é opaco: não o monte nem o altere.
"""

PAGE = """<!doctype html>
<html lang="pt-BR">
<head>
  <meta charset="utf-8">
  <title>credit-desk · API v1</title>
  <link rel="icon" href="{{ url_for('api_docs.asset', filename='favicon-32x32.png') }}">
  <link rel="stylesheet" href="{{ url_for('api_docs.asset', filename='swagger-ui.css') }}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{{ url_for('api_docs.openapi_json') }}"></div>
  <script src="{{ url_for('api_docs.asset', filename='swagger-ui-bundle.js') }}"></script>
  <script src="{{ url_for('api_docs.asset', filename='swagger-ui-standalone-preset.js') }}"></script>
  <script src="{{ url_for('static', filename='api-docs.js') }}"></script>
</body>
</html>
"""


def _swagger_dir() -> str:
    return str(files("flask_swagger_ui") / "dist")


def _int_path_params(document: dict) -> None:
    """Path ids are positive and within the id columns' range (the URL converter registered in
    create_app refuses anything else with a 404)."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                if param["in"] == "path" and param["schema"].get("type") == "integer":
                    param["schema"] = {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}


def _operation_ids(document: dict) -> None:
    """operationId is the view's name (set by @schema); a view serving two methods gets the method too."""
    seen: dict[str, int] = {}
    for operations in document["paths"].values():
        for operation in operations.values():
            seen[operation["operationId"]] = seen.get(operation["operationId"], 0) + 1
    for operations in document["paths"].values():
        for method, operation in operations.items():
            if seen[operation["operationId"]] > 1:
                operation["operationId"] = f"{operation['operationId']}_{method}"


def _apply_extra(operation: dict, extra: dict) -> None:
    for key, value in extra.items():
        if key == "requestBody.required":
            operation["requestBody"]["required"] = value
        elif key == "requestBody":
            operation["requestBody"] = value
        elif key.startswith("responses."):
            _, status, field = key.split(".")
            operation["responses"][status][field] = value


def _tag(path: str) -> str:
    parts = [p for p in path.split("/")[3:] if p and not p.startswith("{")]
    return parts[0] if parts else "api"


def build_document(app: Flask) -> dict[str, Any]:
    with app.app_context():
        # spectree builds the document once per process (it consumes its nested `$defs` while doing
        # so, so it cannot build twice); every app has the same /api/v1 routes.
        document = copy.deepcopy(spec.spec)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                if not param.get("description"):
                    param.pop("description", None)
            if not operation.get("description"):
                operation.pop("description", None)
            operation["tags"] = operation.get("tags") or [_tag(path)]
            _apply_extra(operation, EXTRA_OPERATION_FIELDS.get(operation["operationId"], {}))
    _int_path_params(document)
    _operation_ids(document)
    document["info"]["description"] = DESCRIPTION
    # The signed events credit-desk POSTs to the provider's systems (docs/events.md): OpenAPI 3.1's
    # `webhooks`, one per event type, with the signature headers and the payload's schema.
    document["webhooks"] = copy.deepcopy(WEBHOOKS)
    document["tags"] = [{"name": t} for t in sorted({t for ops in document["paths"].values()
                                                      for op in ops.values() for t in op["tags"]})]
    return document


def document_for(app: Flask) -> dict[str, Any]:
    if "api_openapi" not in app.extensions:
        app.extensions["api_openapi"] = build_document(app)
    return app.extensions["api_openapi"]


@docs_bp.get("/openapi.json")
def openapi_json():
    return jsonify(document_for(current_app._get_current_object()))


@docs_bp.get("/docs")
def docs_page():
    return render_template_string(PAGE)


@docs_bp.get("/docs/assets/<any(" + ",".join(f'"{f}"' for f in SWAGGER_FILES) + "):filename>")
def asset(filename: str):
    return send_from_directory(_swagger_dir(), filename, max_age=86400)

