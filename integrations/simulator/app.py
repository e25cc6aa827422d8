"""The simulator's WSGI application: routing, the behaviours common to every bureau call
(latency, rate limit, faults, bearer auth, request log) and one handler per endpoint of
docs/bureau-api.md. The /_sim/* endpoints are the control plane: no auth, no faults."""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import divergence
from .auth import TokenRegistry, client_matches
from .catalog import PERSON_TYPES, restriction_reasons
from .clock import iso_instant, local_date, now
from .config import SimulatorConfig
from .documents import document_error
from .faults import BadDay, Fault, FaultInjector, TokenBucket
from .payloads import fingerprint, negativation_error, removal_reason_error
from .profiles import build_profile
from .stats import Stats
from .store import CREATE_SCOPE, NegativationRecord, NewNegativation, Outcome, Store, new_protocol

_MAX_BODY_BYTES = 1024 * 1024
_MAX_KEY_LENGTH = 255
_HTML_ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>Serviço indisponível</title></head><body>"
    "<h1>Serviço temporariamente indisponível</h1><p>Tente novamente em alguns instantes.</p>"
    "</body></html>"
)

_URL_MAP = Map(
    [
        Rule("/oauth/token", endpoint="token", methods=["POST"]),
        Rule("/v1/restriction-reasons", endpoint="reasons", methods=["GET"]),
        Rule("/v1/consultations", endpoint="consultations", methods=["POST"]),
        Rule("/v1/negativations", endpoint="negativation_create", methods=["POST"]),
        Rule("/v1/negativations/<protocol>", endpoint="negativation_get", methods=["GET"]),
        Rule("/v1/negativations/<protocol>/removal", endpoint="removal", methods=["POST"]),
        Rule("/_sim/stats", endpoint="sim_stats", methods=["GET"]),
        Rule("/_sim/config", endpoint="sim_config", methods=["GET", "POST"]),
        Rule("/_sim/reset", endpoint="sim_reset", methods=["POST"]),
        Rule("/_sim/negativations/<protocol>/<action>", endpoint="sim_diverge", methods=["POST"]),
    ],
    merge_slashes=False,
)


class _Request(Request):
    max_content_length = _MAX_BODY_BYTES


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, headers=headers, mimetype="application/json"
    )


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return _json({"error": code, "message": message}, status, headers)


def _rate_limited(retry_after: int) -> Response:
    return _error(429, "rate_limited", "Limite de requisições excedido", {"Retry-After": str(retry_after)})


def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _invalid_json() -> Response:
    return _error(400, "invalid_json", "O corpo deve ser um objeto JSON")


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    return key if 0 < len(key) <= _MAX_KEY_LENGTH else None


def _missing_key() -> Response:
    return _error(
        422, "missing_idempotency_key", "Cabeçalho Idempotency-Key (1 a 255 caracteres) é obrigatório"
    )


def status_body(record: NegativationRecord, at: float) -> dict[str, Any]:
    """The state of a negativation at instant `at`: notice until the period ends, then active."""
    activated = record.activates_at <= (record.removed_at if record.removed_at is not None else at)
    status = "removed" if record.removed_at is not None else "active" if activated else "notice"
    return {
        "protocol": record.protocol,
        "status": status,
        "notice_until": record.notice_until,
        "activated_at": iso_instant(record.activates_at) if activated else None,
        "removed_at": iso_instant(record.removed_at) if record.removed_at is not None else None,
        "message": None,
    }


class SimulatorApp:
    """A WSGI callable. Build it with create_simulator_app(); call close() when done."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.store = Store(config.storage_path)
        self.tokens = TokenRegistry()
        self.stats = Stats()
        self.faults = FaultInjector(config.seed)
        self.bucket = TokenBucket()
        self._config_lock = threading.Lock()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._in_flight = 0
        self.bad_day = BadDay(config.seed)

    # -- lifecycle -------------------------------------------------------------------------------
    def begin_shutdown(self) -> None:
        """Wake requests sleeping on latency or timeout faults, and refuse new ones."""
        self._stopping.set()

    def close(self, wait_s: float = 5.0) -> None:
        self.begin_shutdown()
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=wait_s)
        self.store.close()

    @contextmanager
    def _tracked(self) -> Iterator[None]:
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    # -- request pipeline ------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        request = _Request(environ)
        with self._tracked():
            endpoint, response, note = self._respond(request)
        if endpoint is not None:
            self.stats.request(endpoint, response.status_code)
        if self.config.request_log:
            elapsed_ms = (time.perf_counter() - started) * 1000
            # Method, path, status and time only: never the Authorization header nor the body.
            sys.stderr.write(
                f"[bureau-simulator] {request.method} {request.path} {response.status_code}"
                f" {elapsed_ms:.0f}ms{note}\n"
            )
        return response(environ, start_response)

    def _respond(self, request: Request) -> tuple[str | None, Response, str]:
        if self._stopping.is_set():
            return None, _error(503, "shutting_down", "Simulador encerrando"), ""
        try:
            endpoint, args = _URL_MAP.bind_to_environ(request.environ).match()
        except HTTPException as error:
            return None, self._http_error(error), ""
        handler = getattr(self, f"_{endpoint}")
        if endpoint.startswith("sim_"):
            return None, handler(request, **args), ""
        config = self.config
        if self.bad_day.dead(config):
            self.stats.count("dead_refusals")
            return endpoint, _error(503, "service_unavailable", "Bureau fora do ar"), " dead"
        self._pause(config.latency_ms / 1000)
        retry_after = self.bucket.take(config.rate_limit_per_s)
        if retry_after is not None:
            self.stats.count("rate_limited")
            return endpoint, _rate_limited(retry_after), " rate_limited"
        fault = self.faults.draw(config, endpoint)
        if fault is None and endpoint != "token" and self.bad_day.loses_answer(config):
            self._process(endpoint, handler, request, args)  # the work is done (and charged)...
            self.stats.count("answers_lost")
            self._pause(config.timeout_sleep_s)  # ...and the answer never arrives in time
            return endpoint, _error(504, "gateway_timeout", "Tempo esgotado"), " answer_lost"
        if fault is None:
            return endpoint, self._process(endpoint, handler, request, args), ""
        self.stats.fault(fault.kind)
        response = self._inject(fault, config, lambda: self._process(endpoint, handler, request, args))
        return endpoint, response, f" fault={fault.kind}{'+processed' if fault.after_processing else ''}"

    def _http_error(self, error: HTTPException) -> Response:
        headers = {}
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        code = (error.name or "error").lower().replace(" ", "_")
        return _error(error.code or 500, code, error.description or "", headers)

    def _process(
        self, endpoint: str, handler: Callable[..., Response], request: Request, args: dict
    ) -> Response:
        if endpoint != "token" and not self._authorized(request):
            self.stats.count("auth_failures")
            return _error(
                401,
                "invalid_token",
                "Token ausente, inválido ou expirado",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        try:
            return handler(request, **args)
        except HTTPException as error:  # e.g. a body over the size limit
            return self._http_error(error)

    def _inject(self, fault: Fault, config: SimulatorConfig, process: Callable[[], Response]) -> Response:
        if fault.kind == "5xx":
            return _error(fault.status, "server_error", "Erro interno do bureau; tente novamente")
        if fault.kind == "429":
            return _rate_limited(1)
        if fault.kind == "timeout":
            # Processing first and hanging afterwards is the case Idempotency-Key exists for.
            response = process() if fault.after_processing else _error(504, "gateway_timeout", "Tempo esgotado")
            self._pause(config.timeout_sleep_s)
            return response
        if fault.after_processing:  # malformed: the real answer, cut short mid-body
            response = process()
            body = response.get_data()
            response.set_data(body[: max(1, len(body) // 2)])
            return response
        return Response(_HTML_ERROR_PAGE, status=200, mimetype="text/html")

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        return scheme.lower() == "bearer" and bool(token) and self.tokens.is_valid(token)

    # -- bureau endpoints ------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        auth = request.authorization
        if (
            auth is None
            or auth.type != "basic"
            or not client_matches(self.config.clients, auth.username or "", auth.password or "")
        ):
            self.stats.count("auth_failures")
            return _error(
                401, "invalid_client", "Credenciais inválidas", {"WWW-Authenticate": 'Basic realm="bureau"'}
            )
        if request.form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type", "grant_type deve ser client_credentials")
        ttl = self.config.token_ttl_s
        token = self.tokens.issue(ttl, auth.username or "")
        self.stats.count("tokens")
        return _json(
            {"access_token": token, "token_type": "Bearer", "expires_in": max(1, math.ceil(ttl))}, 200
        )

    def _reasons(self, request: Request) -> Response:
        person_type = request.args.get("person_type")
        if person_type not in PERSON_TYPES:
            return _error(422, "invalid_person_type", "person_type deve ser PF ou PJ")
        self.stats.count("reasons")
        return _json({"items": restriction_reasons(person_type)}, 200)

    def _consultations(self, request: Request) -> Response:
        payload = _json_body(request)
        if payload is None:
            return _invalid_json()
        document, document_type = payload.get("document"), payload.get("document_type")
        problem = document_error(document, document_type)
        if problem:
            self.stats.count("invalid_documents")
            return _error(422, "invalid_document", problem)
        body = {
            "protocol": new_protocol("C"),
            "document": document,
            **build_profile(document, document_type),
            "queried_at": iso_instant(now()),
        }
        self.stats.count("consultations")
        return _json(body, 200)

    def _negativation_create(self, request: Request) -> Response:
        key = _idempotency_key(request)
        if key is None:
            self.stats.count("missing_idempotency_keys")
            return _missing_key()
        payload = _json_body(request)
        if payload is None:
            return _invalid_json()
        payload_fingerprint = fingerprint(payload)
        earlier = self.store.idempotent_answer(CREATE_SCOPE, key, payload_fingerprint)
        if earlier is not None:
            return self._creation_answer(earlier)
        created_at = now()
        problem = negativation_error(payload, local_date(created_at))
        if problem:
            self.stats.count("negativations_rejected")
            return _error(422, "rejected", problem)
        activates_at = created_at + self.config.notice_period_s
        new = NewNegativation(
            document=payload["document"],
            document_type=payload["document_type"],
            creditor_cnpj=payload["creditor"]["cnpj"],
            title_numbers=tuple(title["number"] for title in payload["titles"]),
            payload_json=json.dumps(payload, ensure_ascii=False),
            created_at=created_at,
            activates_at=activates_at,
            notice_until=local_date(activates_at).isoformat(),
        )
        return self._creation_answer(self.store.create_negativation(key, payload_fingerprint, new))

    def _creation_answer(self, outcome: Outcome) -> Response:
        if outcome.kind == "conflict":
            self.stats.count("idempotency_conflicts")
            return _error(409, "idempotency_conflict", "Idempotency-Key já usada com outro conteúdo")
        if outcome.kind == "replayed":
            self.stats.count("negativations_replayed")
            return _json(outcome.body, 200)
        self.stats.count("negativations_created")
        self.stats.duplicates(outcome.duplicates)
        return _json(outcome.body, 201)

    def _negativation_get(self, request: Request, protocol: str) -> Response:
        record = self.store.get_negativation(protocol)
        if record is None:
            return _error(404, "not_found", "Protocolo não encontrado")
        self.stats.count("status_queries")
        return _json({**status_body(record, now()), "total_amount": divergence.total_amount(self.store, protocol)},
                     200)

    def _removal(self, request: Request, protocol: str) -> Response:
        key = _idempotency_key(request)
        if key is None:
            self.stats.count("missing_idempotency_keys")
            return _missing_key()
        payload = _json_body(request)
        if payload is None:
            return _invalid_json()
        problem = removal_reason_error(payload)
        if problem:
            return _error(422, "rejected", problem)
        payload_fingerprint = fingerprint({"protocol": protocol, "reason": payload["reason"]})
        outcome = self.store.remove_negativation(key, payload_fingerprint, protocol, payload["reason"], now())
        if outcome.kind == "not_found":
            return _error(404, "not_found", "Protocolo não encontrado")
        if outcome.kind == "conflict":
            self.stats.count("idempotency_conflicts")
            return _error(409, "idempotency_conflict", "Idempotency-Key já usada com outro conteúdo")
        self.stats.count("removals" if outcome.kind == "removed" else "removals_replayed")
        return _json(outcome.body, 200)

    # -- control plane ---------------------------------------------------------------------------
    def _sim_stats(self, request: Request) -> Response:
        return _json({**self.stats.snapshot(), "stored_negativations": self.store.count_negativations(),
                      "dead": self.bad_day.is_dead(self.config)}, 200)

    def _sim_config(self, request: Request) -> Response:
        if request.method == "POST":
            changes = _json_body(request)
            if changes is None:
                return _invalid_json()
            try:
                with self._config_lock:
                    before = self.config
                    self.config = self.config.with_changes(changes)
                    if "die_after_requests" in changes:
                        self.bad_day.start_counting()
            except (TypeError, ValueError) as error:
                return _error(400, "invalid_config", str(error))
            # A rotated (or removed) secret takes the tokens issued under it along.
            for client_id, secret in before.clients.items():
                if self.config.clients.get(client_id) != secret:
                    self.stats.count("tokens_revoked", self.tokens.revoke_client(client_id))
        return _json(self.config.public_dict(), 200)

    def _sim_diverge(self, request: Request, protocol: str, action: str) -> Response:
        try:
            return _json(divergence.apply(self.store, protocol, action, _json_body(request)), 200)
        except divergence.UnknownProtocol:
            return _error(404, "not_found", "Protocolo não encontrado")
        except ValueError as error:
            return _error(400, "invalid_request", str(error))

    def _sim_reset(self, request: Request) -> Response:
        # Issued tokens stay valid: clients holding one keep working across resets.
        self.store.reset()
        self.stats.reset()
        self.bucket.reset()
        self.faults.reseed(self.config.seed)
        self.bad_day.reseed(self.config.seed)
        return _json({"status": "reset"}, 200)


def create_simulator_app(config: SimulatorConfig | None = None) -> SimulatorApp:
    return SimulatorApp(config or SimulatorConfig())
