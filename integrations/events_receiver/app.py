"""The receiver's WSGI app: POST /events (any path) with credit-desk's signed JSON.

Answers 200 to an authentic, fresh event (and again 200, marked duplicate, to an event id already
received: a receiver must acknowledge what it already has, or the sender would keep retrying it);
401 to a bad or missing signature or a stale timestamp; 400 to a body that is not JSON. `fail_first`
answers 503 to the first N requests, to show the sender's retries. GET /_receiver/stats tells the
tests what arrived.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from integrations.events.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)

MAX_REMEMBERED = 100_000


@dataclass(frozen=True)
class Received:
    event_id: str
    event_type: str
    duplicate: bool
    lag_s: float | None  # from the change (payload created_at) to this receipt
    payload: dict[str, Any]


class ReceiverApp:
    def __init__(self, secrets: list[str], *, fail_first: int = 0, out=None, quiet: bool = False):
        if not secrets:
            raise ValueError("at least one secret is needed to verify signatures")
        self.secrets = list(secrets)
        self.fail_first = fail_first
        self.out = out or sys.stdout
        self.quiet = quiet
        self.received: list[Received] = []  # every accepted request, duplicates included
        self.refused = 0
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._requests = 0

    def __call__(self, environ, start_response):
        request = Request(environ)
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/_receiver/stats":
            return _json(self.stats(), 200)
        if request.method != "POST":
            return _json({"error": "method_not_allowed"}, 405)
        with self._lock:
            self._requests += 1
            failing = self._requests <= self.fail_first
        if failing:
            self._print(f"respondendo 503 de propósito ({self._requests}/{self.fail_first})")
            return _json({"error": "unavailable"}, 503)
        body = request.get_data()
        problem = verify(self.secrets, request.headers.get(TIMESTAMP_HEADER), body,
                         request.headers.get(SIGNATURE_HEADER))
        if problem:
            with self._lock:
                self.refused += 1
            self._print(f"RECUSADO: {problem}")
            return _json({"error": "invalid_signature", "message": problem}, 401)
        try:
            payload = json.loads(body)
        except ValueError:
            return _json({"error": "invalid_json"}, 400)
        event_id = request.headers.get(EVENT_ID_HEADER) or payload.get("id") or ""
        event_type = request.headers.get(EVENT_TYPE_HEADER) or payload.get("type") or ""
        with self._lock:
            duplicate = event_id in self._seen
            self._seen[event_id] = None
            while len(self._seen) > MAX_REMEMBERED:
                self._seen.popitem(last=False)
            item = Received(event_id, event_type, duplicate, _lag(payload), payload)
            self.received.append(item)
        self._print(_describe(item))
        return _json({"received": event_id, "duplicate": duplicate}, 200)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            lags = sorted(r.lag_s for r in self.received if r.lag_s is not None and not r.duplicate)
            return {"received": len(self.received), "duplicates": sum(r.duplicate for r in self.received),
                    "refused": self.refused, "requests": self._requests,
                    "by_type": _count(r.event_type for r in self.received if not r.duplicate),
                    "lag_s": {"n": len(lags), "min": lags[0] if lags else None,
                              "median": lags[len(lags) // 2] if lags else None, "max": lags[-1] if lags else None}}

    def _print(self, line: str) -> None:
        if not self.quiet:
            self.out.write(f"[eventos] {dt.datetime.now().strftime('%H:%M:%S')} {line}\n")
            self.out.flush()


def _lag(payload: dict[str, Any]) -> float | None:
    try:
        created = dt.datetime.fromisoformat(str(payload.get("created_at")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return round(time.time() - created.timestamp(), 3)


def _describe(item: Received) -> str:
    data = item.payload.get("data") or {}
    # The entity the event is about: the first object of `data` with an id (a payment's title, say).
    subject = next((v for v in data.values() if isinstance(v, dict) and "id" in v), {})
    parts = [item.event_type, item.event_id, f"filial {(item.payload.get('branch') or {}).get('id')}"]
    if isinstance(subject, dict):
        for key in ("id", "status", "protocol", "kind", "document"):
            if subject.get(key) is not None:
                parts.append(f"{key}={subject[key]}")
    lag = f", atraso {item.lag_s:.1f} s" if item.lag_s is not None else ""
    duplicate = " (DUPLICADO, ignorado)" if item.duplicate else ""
    return " ".join(map(str, parts)) + f" — assinatura válida{lag}{duplicate}"


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-") -> None:
        """The app prints its own line per event."""


def start_in_thread(secrets: list[str], *, host: str = "127.0.0.1", port: int = 0, fail_first: int = 0,
                    quiet: bool = True) -> tuple[str, ReceiverApp, Callable[[], None]]:
    """Serve on a real socket in a daemon thread (port 0: a free one); returns (url, app, stop)."""
    app = ReceiverApp(secrets, fail_first=fail_first, quiet=quiet)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="events-receiver", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

    return f"http://{host}:{server.server_port}/events", app, stop
