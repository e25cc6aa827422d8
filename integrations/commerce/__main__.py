"""python -m integrations.commerce: run the commerce-platform simulator, or send customers.

    python -m integrations.commerce --port 5060 [--secret S] [--fault-rate 0.2]
        [--push-to URL --token-file FILE --push-count 20]   # also post a batch once credit-desk is up
    python -m integrations.commerce send-customers --to URL --token T [--secret S] [--unsigned]
        [--count 20] [--start 1]

Customer posts are signed with --secret (the branch's platform secret; default the demo's).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from pathlib import Path

import requests

from .simulator import DEMO_SECRET, PlatformConfig, send_customers, serve


def _token(args) -> str:
    if args.token:
        return args.token
    if args.token_file:
        return Path(args.token_file).read_text().strip()
    raise SystemExit("informe --token ou --token-file")


def _send(args) -> int:
    secret = None if args.unsigned else args.secret
    result = send_customers(args.to, _token(args), secret=secret, count=args.count, start=args.start)
    print(json.dumps(_short(result), ensure_ascii=False, indent=2))
    return 0 if 200 <= result["http_status"] < 300 else 1


def _short(result: dict) -> dict:
    body = result.get("response") or {}
    if isinstance(body, dict) and "items" in body:
        body = {k: v for k, v in body.items() if k != "items"} | {"items": body["items"][:5]}
    return {"http_status": result["http_status"], "response": body}


def _push_when_ready(args) -> None:
    """Wait for credit-desk to answer, then post one batch (the demo's "new customers" moment)."""
    deadline = time.monotonic() + args.push_wait
    while time.monotonic() < deadline:
        try:
            token = _token(args)
            result = send_customers(args.push_to, token, secret=args.secret, count=args.push_count,
                                    start=args.push_start)
        except (requests.ConnectionError, FileNotFoundError):
            time.sleep(1)
            continue
        print(f"[plataforma] lote de {args.push_count} clientes enviado: {json.dumps(_short(result))[:400]}",
              file=sys.stderr, flush=True)
        return
    print("[plataforma] credit-desk não respondeu; lote de clientes não enviado", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "send-customers":
        parser = argparse.ArgumentParser(prog="python -m integrations.commerce send-customers")
        parser.add_argument("--to", required=True, help="credit-desk URL, e.g. …/api/v1/commerce/customers?branch=1")
        parser.add_argument("--token")
        parser.add_argument("--token-file")
        parser.add_argument("--count", type=int, default=20)
        parser.add_argument("--start", type=int, default=1, help="first customer number (same number, same customer)")
        parser.add_argument("--secret", default=DEMO_SECRET, help="the branch's platform secret (signs the XML)")
        parser.add_argument("--unsigned", action="store_true", help="send without a signature (it is refused)")
        return _send(parser.parse_args(argv[1:]))
    if argv and argv[0] == "serve":
        argv = argv[1:]
    parser = argparse.ArgumentParser(prog="python -m integrations.commerce", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5060)
    parser.add_argument("--secret", default=DEMO_SECRET, help="HMAC secret shared with credit-desk")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--push-to", help="post a batch of customers to this URL once it answers")
    parser.add_argument("--token")
    parser.add_argument("--token-file")
    parser.add_argument("--push-count", type=int, default=20)
    parser.add_argument("--push-start", type=int, default=1)
    parser.add_argument("--push-wait", type=float, default=120.0)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    config = PlatformConfig(secret=args.secret, fault_rate=args.fault_rate, fail_first=args.fail_first,
                            request_log=not args.quiet)
    if args.push_to:
        threading.Thread(target=_push_when_ready, args=(args,), daemon=True).start()
    print(f"commerce platform simulator on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.host, args.port, config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
