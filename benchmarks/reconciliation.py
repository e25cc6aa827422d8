"""Benchmark of the daily reconciliation and of the events delivery. A script, not a test.

    .venv/bin/python -m benchmarks.reconciliation [--entries 300] [--latency-ms 0]

A fresh SQLite file under benchmarks/out/, the bureau simulator on a socket with its DEFAULT
configuration (no rate limit, no latency unless asked), the real HTTP client. It negativates
`--entries` titles, then times three reconciliations of them:
1. the branch with no known rate limit: paced at the default 10/s (DEFAULT_RATE_PER_S);
2. the branch's limit 50/s (the demo's): paced at 80 % of it, 40/s;
3. a limit far above what one runner can do: the runner's own ceiling.
Then the events: one endpoint pointing at the receiver on a socket, `--entries` payment events, and
the delivery job run every 5 s as the scheduler does; latency = receipt time - change time.
The LAST stdout line is the JSON result.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import argparse
import json
import statistics
import threading
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--events", type=int, default=60)
    args = parser.parse_args()

    from app.bootstrap import bootstrap, real_bureau_factory
    from app.db import make_engine
    from app.models import Base, CollectionPolicy
    from app.services.core.audit import Actor
    from app.services.core.clock import today_br
    from app.services.events.delivery import deliver_pending
    from app.services.reconciliation.runs import run_branch
    from app.services.titles import payments
    from integrations.events_receiver import start_in_thread as start_receiver
    from integrations.simulator import SimulatorConfig, start_in_thread
    from tests.integration.events_support import SECRET, add_endpoint
    from tests.integration.reconciliation_support import negativated_world
    from tests.integration.titles_support import FINANCE

    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    db = out / "reconciliation.sqlite3"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    config = {"DATABASE_URL": url, "ENCRYPTION_KEY": "x3Yb0Yl1E6k3yqI3jQyq7pVDZ2Qn6Rk3GfV0yq2YF6o=",
              "SECRET_KEY": "k", "BUREAU_READ_TIMEOUT": 5, "BUREAU_MAX_ATTEMPTS": 2}
    services = bootstrap(config, engine=engine)
    services.bureau_factory = real_bureau_factory(config, engine, services.box)
    sim_url, stop_sim = start_in_thread(SimulatorConfig(request_log=False, latency_ms=args.latency_ms))
    result: dict = {"entries": args.entries, "simulator": "default config (rate_limit_per_s=None)"}
    try:
        print(f"negativating {args.entries} titles…", file=sys.stderr)
        branch_id, party_id, rows = negativated_world(services, sim_url, args.entries)
        for label, limit in (("no_branch_limit", None), ("branch_limit_50", 50), ("branch_limit_100000", 100000)):
            with services.session_factory() as s:
                policy = s.get(CollectionPolicy, branch_id)
                if policy is None:
                    policy = CollectionPolicy(branch_id=branch_id, enabled=False)
                    s.add(policy)
                policy.rate_limit_per_s = limit
                s.commit()
            started = time.monotonic()
            summary = run_branch(services, Actor.system("bench"), branch_id)
            elapsed = time.monotonic() - started
            result[label] = {"checked": summary.checked, "seconds": round(elapsed, 2),
                             "entries_per_s": round(summary.checked / elapsed, 1)}
            print(label, result[label], file=sys.stderr)

        receiver_url, receiver, stop_receiver = start_receiver([SECRET])
        add_endpoint(services, branch_id, receiver_url, types=["title.payment_recorded"])
        stop = threading.Event()

        def scheduler_tick():  # the events_delivery job: every 5 s
            while not stop.wait(5):
                deliver_pending(services)

        ticker = threading.Thread(target=scheduler_tick, daemon=True)
        ticker.start()
        title_ids = [t for t, _, _ in rows[: args.events]]
        for i, title_id in enumerate(title_ids):
            with services.session_factory() as s:
                payments.register_payment(s, FINANCE, title_id, "1.00", today_br())
                s.commit()
            time.sleep(0.2 if i % 5 else 0.9)  # changes spread over the delivery interval
        deadline = time.monotonic() + 30
        while len(receiver.received) < len(title_ids) and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        lags = sorted(r.lag_s for r in receiver.received)
        result["events"] = {"sent": len(title_ids), "received": len(receiver.received),
                            "duplicates": sum(r.duplicate for r in receiver.received),
                            "latency_s": {"min": lags[0], "median": statistics.median(lags),
                                          "p95": lags[int(len(lags) * 0.95) - 1], "max": lags[-1]}}
        stop_receiver()
    finally:
        stop_sim()
        engine.dispose()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
