"""python -m integrations.simulator: run the bureau simulator under waitress."""

from __future__ import annotations

import argparse
import contextlib
import sys

from .config import FAULT_KINDS, SimulatorConfig
from .server import DEFAULT_THREADS, serve


def _client(value: str) -> tuple[str, str]:
    client_id, separator, secret = value.partition(":")
    if not separator or not client_id or not secret:
        raise argparse.ArgumentTypeError("use CLIENT_ID:CLIENT_SECRET")
    return client_id, secret


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m integrations.simulator", description="Crédito na Medida-compatible bureau simulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5050)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of calls that fail, 0..1")
    parser.add_argument(
        "--fault-kinds", default=",".join(FAULT_KINDS), help=f"comma-separated among {','.join(FAULT_KINDS)}"
    )
    parser.add_argument("--timeout-sleep", type=float, default=15.0, help="seconds a timeout fault hangs")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second, all clients")
    parser.add_argument("--notice-days", type=int, default=10)
    parser.add_argument("--notice-seconds", type=float, default=None, help="overrides --notice-days")
    parser.add_argument("--token-ttl", type=float, default=3600.0)
    parser.add_argument("--storage", default=None, help="SQLite file; in memory when omitted")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--client",
        type=_client,
        action="append",
        help="CLIENT_ID:CLIENT_SECRET, repeatable (default demo-client:demo-secret)",
    )
    parser.add_argument("--quiet", action="store_true", help="no request log on stderr")
    return parser


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    kinds = tuple(kind.strip() for kind in args.fault_kinds.split(",") if kind.strip())
    return SimulatorConfig(
        clients=dict(args.client) if args.client else {"demo-client": "demo-secret"},
        token_ttl_s=args.token_ttl,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        fault_kinds=kinds,
        timeout_sleep_s=args.timeout_sleep,
        rate_limit_per_s=args.rate_limit,
        notice_days=args.notice_days,
        notice_seconds=args.notice_seconds,
        storage_path=args.storage,
        seed=args.seed,
        request_log=not args.quiet,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    print(f"bureau simulator on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve(host=args.host, port=args.port, config=config, threads=args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
