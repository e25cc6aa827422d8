"""python -m integrations.events_receiver: receive, verify and print credit-desk's events."""

from __future__ import annotations

import argparse
import contextlib
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m integrations.events_receiver",
                                     description="Receives credit-desk's signed events and prints them.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5070)
    parser.add_argument("--secret", action="append", required=True,
                        help="the endpoint's HMAC secret; repeat it to accept two while one is rotated")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 503 to the first N requests")
    args = parser.parse_args(argv)
    import waitress

    from .app import ReceiverApp

    app = ReceiverApp(args.secret, fail_first=args.fail_first)
    print(f"receptor de eventos em http://{args.host}:{args.port}/events", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        waitress.serve(app, host=args.host, port=args.port, threads=4, ident="credit-desk-events-receiver")
    return 0


if __name__ == "__main__":
    sys.exit(main())
