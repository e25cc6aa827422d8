"""A stand-in for the B2B commerce platform (docs/commerce-xml.md), for the demo and the tests.

It receives credit-desk's status/limit updates (POST /updates), checks the HMAC signature and the
timestamp, records each update once per Idempotency-Key (GET /received), can be told to fail
(`fault_rate`, `fail_first`), and can send a batch of new customers as XML to credit-desk's
inbound endpoint, signed with the same secret, like the platform does when customers register
(POST /_sim/send-customers, or `python -m integrations.commerce send-customers`). It imports
nothing from `app/`.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .samples import batch_xml
from .signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, fresh, inbound_headers, verify

MAX_BODY = 64 * 1024
DEMO_SECRET = "demo-commerce-secret"


@dataclass
class PlatformConfig:
    secret: str = DEMO_SECRET
    fault_rate: float = 0.0  # share of valid updates answered with 503
    fail_first: int = 0  # the next N valid updates are answered with 503
    max_skew_s: int = 300
    seed: int = 0
    request_log: bool = False


@dataclass
class _State:
    received: list[dict[str, Any]] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    attempts: int = 0
    rejected: int = 0
    faults: int = 0


class PlatformSimulator:
    def __init__(self, config: PlatformConfig | None = None):
        self.config = config or PlatformConfig()
        self._state = _State()
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._urls = Map([
            Rule("/", endpoint="index", methods=["GET"]),
            Rule("/updates", endpoint="updates", methods=["POST"]),
            Rule("/received", endpoint="received", methods=["GET"]),
            Rule("/_sim/config", endpoint="config", methods=["GET", "POST"]),
            Rule("/_sim/reset", endpoint="reset", methods=["POST"]),
            Rule("/_sim/send-customers", endpoint="send_customers", methods=["POST"]),
        ])

    def __call__(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = MAX_BODY
        try:
            endpoint, args = self._urls.bind_to_environ(environ).match()
            response = getattr(self, f"_{endpoint}")(request, **args)
        except (NotFound, MethodNotAllowed) as exc:
            response = _json({"error": exc.name.lower().replace(" ", "_")}, exc.code)
        except HTTPException as exc:
            response = _json({"error": "bad_request", "message": exc.description}, exc.code or 400)
        if self.config.request_log:
            print(f"[plataforma] {request.method} {request.path} -> {response.status_code}", flush=True)
        return response(environ, start_response)

    # --- the platform's side of the exchange --------------------------------------------------
    def _updates(self, request: Request) -> Response:
        body = request.get_data(cache=False)
        with self._lock:
            self._state.attempts += 1
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        if not verify(self.config.secret, body, request.headers.get(SIGNATURE_HEADER)):
            return self._reject("invalid_signature", "Assinatura HMAC inválida.")
        try:
            payload = json.loads(body)
        except ValueError:
            return self._reject("invalid_json", "Corpo não é JSON.", 400)
        if not fresh(timestamp, max_skew_s=self.config.max_skew_s) or str(payload.get("sent_at")) != timestamp:
            return self._reject("stale_request", "Timestamp ausente, divergente ou fora da janela.")
        key = request.headers.get(IDEMPOTENCY_HEADER) or ""
        with self._lock:
            if self.config.fail_first > 0:
                self.config.fail_first -= 1
                self._state.faults += 1
                return _json({"error": "unavailable"}, 503)
            if self.config.fault_rate and self._rng.random() < self.config.fault_rate:
                self._state.faults += 1
                return _json({"error": "unavailable"}, 503)
            if key and key in self._state.keys:
                return _json({"status": "duplicate"}, 200)
            if key:
                self._state.keys.add(key)
            self._state.received.append({"idempotency_key": key, "received_at": _now(), "payload": payload})
        return _json({"status": "received"}, 200)

    def _reject(self, code: str, message: str, status: int = 401) -> Response:
        with self._lock:
            self._state.rejected += 1
        return _json({"error": code, "message": message}, status)

    def _received(self, request: Request) -> Response:
        customer = request.args.get("customer_id")
        with self._lock:
            items = [i for i in self._state.received
                     if not customer or i["payload"].get("customer_id") == customer]
            stats = {"attempts": self._state.attempts, "rejected": self._state.rejected,
                     "faults": self._state.faults}
        return _json({"count": len(items), "items": items, "stats": stats}, 200)

    def _index(self, request: Request) -> Response:
        with self._lock:
            last = list(reversed(self._state.received[-50:]))
        rows = "".join(
            f"<tr><td>{html.escape(i['received_at'])}</td><td>{html.escape(str(i['payload'].get('event')))}</td>"
            f"<td>{html.escape(str(i['payload'].get('customer_id')))}</td>"
            f"<td>{html.escape(str(i['payload'].get('document')))}</td>"
            f"<td>{html.escape(str(i['payload'].get('status')))}</td>"
            f"<td>{html.escape(str(i['payload'].get('credit_limit', '')))}</td>"
            f"<td>{html.escape(str(i['payload'].get('available_credit', '')))}</td></tr>" for i in last)
        page = ("<!doctype html><meta charset=utf-8><title>Plataforma (simulador)</title>"
                "<h1>Plataforma B2B (simulador)</h1><p>Últimas atualizações recebidas do ERP:</p>"
                "<table border=1 cellpadding=4><tr><th>Recebida</th><th>Evento</th><th>Cliente</th><th>Documento</th>"
                f"<th>Status</th><th>Limite</th><th>Disponível</th></tr>{rows}</table>")
        return Response(page, 200, content_type="text/html; charset=utf-8")

    # --- control plane ------------------------------------------------------------------------
    def _config(self, request: Request) -> Response:
        if request.method == "POST":
            data = request.get_json(silent=True) or {}
            with self._lock:
                if "fault_rate" in data:
                    self.config.fault_rate = max(0.0, min(1.0, float(data["fault_rate"])))
                if "fail_first" in data:
                    self.config.fail_first = max(0, int(data["fail_first"]))
        return _json({"fault_rate": self.config.fault_rate, "fail_first": self.config.fail_first}, 200)

    def _reset(self, request: Request) -> Response:
        with self._lock:
            self._state = _State()
        return _json({"status": "reset"}, 200)

    def _send_customers(self, request: Request) -> Response:
        data = request.get_json(silent=True) or {}
        if not data.get("to") or not data.get("token"):
            return _json({"error": "bad_request", "message": "informe 'to' e 'token'"}, 400)
        try:
            result = send_customers(data["to"], data["token"], secret=data.get("secret") or self.config.secret,
                                    count=int(data.get("count", 20)), start=int(data.get("start", 1)))
        except requests.RequestException as exc:
            return _json({"error": "send_failed", "message": type(exc).__name__}, 502)
        return _json(result, 200)

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._state.received)


def send_customers(to: str, token: str, *, secret: str | None = DEMO_SECRET, count: int = 20, start: int = 1,
                   timeout: float = 60.0) -> dict[str, Any]:
    """POST a batch of `count` customers (deterministic from `start`) as XML, like the platform,
    signed with the branch's shared secret (None sends it unsigned, to see the refusal)."""
    body = batch_xml(start, count)
    headers = {"Content-Type": "application/xml; charset=utf-8", "Authorization": f"Bearer {token}"}
    if secret:
        headers.update(inbound_headers(secret, body))
    resp = requests.post(to, data=body, timeout=(3.05, timeout), headers=headers)
    try:
        body = resp.json()
    except ValueError:
        body = {"raw": resp.text[:500]}
    return {"http_status": resp.status_code, "response": body}


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, content_type="application/json; charset=utf-8")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-") -> None:
        """The simulator logs its own requests when asked to."""


def start_in_thread(config: PlatformConfig | None = None, host: str = "127.0.0.1", port: int = 0
                    ) -> tuple[str, PlatformSimulator, Callable[[], None]]:
    """Serve on a real socket in a daemon thread (port 0 picks a free one): (base_url, app, stop)."""
    app = PlatformSimulator(config)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="commerce-simulator", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

    return f"http://{host}:{server.server_port}", app, stop


def serve(host: str = "127.0.0.1", port: int = 5060, config: PlatformConfig | None = None, threads: int = 8) -> None:
    import waitress

    waitress.serve(PlatformSimulator(config), host=host, port=port, threads=threads, ident="commerce-simulator")
