"""Running the simulator: under waitress for the demo, or in a background thread for tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_simulator_app
from .config import SimulatorConfig

DEFAULT_THREADS = 16


def serve(
    host: str = "127.0.0.1",
    port: int = 5050,
    config: SimulatorConfig | None = None,
    threads: int = DEFAULT_THREADS,
) -> None:
    """Serve until interrupted. Enough threads that timeout faults (which hold a thread while
    they sleep) do not starve the other clients."""
    import waitress  # imported here: tests that only use start_in_thread do not need it

    app = create_simulator_app(config)
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="credito-na-medida-simulator")
    finally:
        app.close()


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The app writes its own request line; werkzeug's would repeat it."""


def start_in_thread(
    config: SimulatorConfig | None, host: str = "127.0.0.1", port: int = 0
) -> tuple[str, Callable[[], None]]:
    """Start the simulator on a real socket in a daemon thread (port 0 picks a free port).

    Returns (base_url, stop); stop() is idempotent and releases the port and the storage.
    """
    app = create_simulator_app(config)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietRequestHandler)
    # A short poll interval makes stop() return in milliseconds instead of half a second.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="bureau-simulator", daemon=True
    )
    thread.start()
    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        app.begin_shutdown()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.close()

    return f"http://{host}:{server.server_port}", stop
