"""Running the simulator: under waitress, for the demo (`serve`) or in a background thread for tests and
benchmarks (`start_in_thread`).

Both keep HTTP/1.1 connections alive, as the real bureau's HTTPS front does: werkzeug's development
server (used here before) answers every request with `Connection: close`, so each bureau call paid a
new TCP connection on the client's side (connect, a new urllib3 connection object, the close), a
cost the product does not have against the real bureau and that the routine's benchmark counted as
the routine's CPU. waitress also reads any unread request body before the next request on the
connection, which the werkzeug server cannot do (the reason it closes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .app import create_simulator_app
from .config import SimulatorConfig

DEFAULT_THREADS = 16
# In a thread: enough request threads that timeout faults (which hold a thread while they sleep) and a
# routine's worker pool (one kept-alive connection each) never wait for one another.
THREAD_SERVER_THREADS = 48


def serve(
    host: str = "127.0.0.1",
    port: int = 5050,
    config: SimulatorConfig | None = None,
    threads: int = DEFAULT_THREADS,
) -> None:
    """Serve until interrupted. Enough threads that timeout faults (which hold a thread while
    they sleep) do not starve the other clients."""
    import waitress  # imported here: only the demo and start_in_thread need it

    app = create_simulator_app(config)
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="credito-na-medida-simulator")
    finally:
        app.close()


def start_in_thread(
    config: SimulatorConfig | None, host: str = "127.0.0.1", port: int = 0
) -> tuple[str, Callable[[], None]]:
    """Start the simulator on a real socket in a daemon thread (port 0 picks a free port).

    Returns (base_url, stop); stop() is idempotent and releases the port and the storage.
    """
    from waitress.server import create_server

    app = create_simulator_app(config)
    server = create_server(
        app,
        host=host,
        port=port,
        threads=THREAD_SERVER_THREADS,
        ident="credito-na-medida-simulator",
        asyncore_loop_timeout=0.05,  # how soon the loop sees stop(): milliseconds, not the default second
        clear_untrusted_proxy_headers=False,
    )
    bound = server.effective_port
    stopped = threading.Event()

    def run() -> None:
        # The server's loop reads time.time() at every turn (every 50 ms). Under a test's time travel
        # (time-machine, tests/clock.py) a turn that straddles the end of the travel raises
        # "Not currently time-travelling" in this thread, before any channel is touched: the turn
        # is simply taken again. Any other error still ends the thread.
        while True:
            try:
                server.run()
                return
            except ValueError as exc:
                if stopped.is_set() or "time-travelling" not in str(exc):
                    raise

    thread = threading.Thread(target=run, name="bureau-simulator", daemon=True)
    thread.start()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        app.begin_shutdown()  # wakes requests sleeping on latency or timeout faults
        # An empty socket map ends the server's loop at its next turn (asyncore_loop_timeout); then
        # this thread is the only one left touching the sockets.
        dispatchers = list(server._map.values())
        server._map.clear()
        thread.join(timeout=10)
        quiet = logging.getLogger("waitress.queue")  # tasks of connections closed below, cancelled
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            # The request threads finish (they may still pull the trigger) before anything is closed.
            server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        finally:
            quiet.setLevel(level)
        for channel in dispatchers:
            if channel is not server and channel is not server.trigger:
                channel.handle_close()
        server.close()  # the listening socket and the trigger
        app.close()

    return f"http://{host}:{bound}", stop
