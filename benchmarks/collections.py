"""Benchmark of the collections routine. A script, not a test.

    .venv/bin/python -m benchmarks.collections [--clients 100000] [--titles 1000000] [--send 2000]
        [--database sqlite|postgresql | --database-url URL] [--reuse] [--skip-selection] [--skip-send] [--keep]
        [--explain] [--runs 3] [--simulator thread|process] [--busy-core [free|pinned]]

(`python benchmarks/collections.py` works too.) The database is a fresh SQLite file under benchmarks/out/
unless `--database postgresql` (the local server, postgresql://postgres@127.0.0.1:5432), `--database-url` or
`DATABASE_URL` is given; on PostgreSQL everything happens in a private schema
(`options=-csearch_path=<schema>`) dropped at the end (kept with `--keep`).

`--reuse` builds the portfolio once and keeps it as a template (benchmarks/reuse.py): a PostgreSQL database
or a SQLite file named after --clients/--titles/--send/--seed; every run then works on a fresh copy of it
(the send phase writes 2,000 negativations: a run on the template itself would find nothing to send the
second time).

1. Builds a synthetic portfolio (benchmarks/portfolio.py): the main branch with `--clients` clients and
   `--titles` titles, and a send branch where exactly `--send` clients have one title 90 days overdue.
2. Selection: `collections.select_eligible` (the routine's set-based query) against a hand-written SQL
   query encoding the same rules, best of 3 each; both must return the same (title_id, party_id) set.
3. Sending: the real routine (`collections.run_branch`) on the send branch, through the real HTTP client,
   to the bureau simulator on a socket (50 ms latency, 100 requests/s), run in a child process by default
   (the real bureau is another machine: its CPU must not compete with the routine's threads for this
   interpreter's GIL); `--simulator thread` runs it in this process instead. `--busy-core` starts a
   spinning process for the send phase (a busy loop, placed by the OS or `pinned` to the last CPU) and
   stops it at the end: the routine on a machine whose other core is busy.

Progress goes to stderr; the LAST stdout line is the JSON result. Exit status 1 when the two selections
differ or a title was sent twice.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:
    # Run as a file: this directory must not shadow anything, and the project root must be importable.
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import argparse
import datetime as dt
import json
import multiprocessing
import os
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from cryptography.fernet import Fernet
from sqlalchemy import Date, TextClause, bindparam, func, select, text, update
from sqlalchemy.engine import Engine, make_url

from app.bootstrap import bootstrap
from app.db import make_engine, make_session_factory
from app.models import BureauIntegration, Negativation, NegativationTitle, Title
from app.models.base import Money
from app.services.collections.routine import run_branch, select_candidates, select_eligible
from app.services.core.audit import Actor
from app.services.core.clock import today_br
from app.services.core.crypto import SecretBox
from app.services.negativations.eligibility import Criteria, eligible_titles_select, prescription_cutoff
from app.services.negativations.policy import policy_for
from benchmarks import portfolio, reuse
from integrations.simulator.config import SimulatorConfig
from integrations.simulator.server import start_in_thread

OUT_DIR = Path(__file__).resolve().parent / "out"
RATE_LIMIT_PER_S = portfolio.RATE_LIMIT_PER_S
LATENCY_MS = 50
TARGET_RATIO = 1.5
TARGET_SEND = 0.9
TARGET_CPU_MS = 3.0  # CPU of this process per negativation in the send phase

# The rules of app/services/negativations/eligibility.py (domain rules 1-8), written by hand as conjunctions: first the
# collectible titles of the branch in the due-date window (open/partial, not disputed, not court blocked,
# open amount > 0 and >= the branch minimum, overdue at least N days: due_date <= today - N, not prescribed:
# due_date >= cutoff, in no live negativation), then their debtors (full address, a document of the right
# length for its kind) and the integration's restriction code for the debtor's kind.
# MATERIALIZED (PostgreSQL 12+, SQLite 3.35+) keeps the titles step first: PostgreSQL estimates
# `length(document) = 11` at its default 0.5% selectivity, believes ~300 of 100,000 clients qualify and,
# inlined, starts from parties with 100,000 index probes into titles (2.1 s instead of 0.3 s).
BARE_SQL = """
WITH due AS MATERIALIZED (
  SELECT t.id, t.party_id, t.branch_id, t.due_date
  FROM titles t
  WHERE t.branch_id = :branch_id
    AND t.status IN ('open', 'partial')
    AND t.due_date BETWEEN :cutoff AND :last_due
    AND NOT t.disputed
    AND NOT t.court_blocked
    AND t.open_amount > 0
    AND t.open_amount >= :min_amount
    AND NOT EXISTS (SELECT 1 FROM negativation_titles nt WHERE nt.title_id = t.id AND nt.live)
)
SELECT due.id, due.party_id
FROM due
JOIN parties p ON p.id = due.party_id
JOIN branches b ON b.id = due.branch_id
JOIN bureau_integrations bi ON bi.id = b.bureau_integration_id
WHERE coalesce(trim(p.street), '') <> '' AND coalesce(trim(p.number), '') <> ''
  AND coalesce(trim(p.district), '') <> '' AND coalesce(trim(p.city), '') <> ''
  AND coalesce(trim(p.state), '') <> '' AND coalesce(trim(p.zip), '') <> ''
  AND ((p.document_kind = 'CPF' AND length(p.document) = 11)
       OR (p.document_kind = 'CNPJ' AND length(p.document) = 14))
  AND coalesce(CASE WHEN p.document_kind = 'CPF' THEN bi.restriction_code_pf
                    ELSE bi.restriction_code_pj END, '') <> ''
ORDER BY due.party_id, due.due_date, due.id
"""


def bare_statement(prefix: str = "") -> TextClause:
    """BARE_SQL with typed parameters: dates as the dialect stores them, money as cents on SQLite."""
    return text(prefix + BARE_SQL).bindparams(bindparam("cutoff", type_=Date()), bindparam("last_due", type_=Date()),
                                              bindparam("min_amount", type_=Money()))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- database


@dataclass
class Database:
    url: str
    engine: Engine
    kind: str  # sqlite | postgresql
    where: str  # file or schema, for the log
    _cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self, keep: bool) -> None:
        self.engine.dispose()
        if keep:
            log(f"kept: {self.where} ({self.url})")
            return
        for step in self._cleanup:
            step()


def open_database(url: str | None) -> Database:
    """A fresh, empty database: a new SQLite file, or a private schema on PostgreSQL."""
    url = url or os.environ.get("DATABASE_URL")
    if not url:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUT_DIR / f"collections-{dt.datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}.sqlite3"
        url = f"sqlite:///{path}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("postgresql"):
        admin = make_engine(url)
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        private = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        private_url = private.render_as_string(hide_password=False)
        db = Database(private_url, make_engine(private_url), "postgresql", f"schema {schema}")

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        db._cleanup.append(drop)
        return db
    if not url.startswith("sqlite"):
        raise SystemExit(f"unsupported database URL: {url.split(':', 1)[0]}")
    file = make_url(url).database
    if file and file != ":memory:" and Path(file).exists() and Path(file).stat().st_size > 0:
        raise SystemExit(f"{file} already exists: the benchmark needs an empty database")
    db = Database(url, make_engine(url), "sqlite", f"file {file}")
    if file and file != ":memory:":
        db._cleanup.append(lambda: [Path(file + s).unlink(missing_ok=True) for s in ("", "-wal", "-shm")])
    return db


# --------------------------------------------------------------------------- (a) selection


def _best_of(fn: Callable[[], list[tuple[int, int]]], runs: int) -> tuple[float, list[float], list[tuple[int, int]]]:
    times, result = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, result


def selection_phase(db: Database, pf: portfolio.Portfolio, runs: int, explain: bool) -> dict[str, Any]:
    sessions = make_session_factory(db.engine)
    criteria = Criteria(pf.today, portfolio.DAYS_TO_EXECUTE, require_branch_code=True)
    with sessions() as s:
        policy = policy_for(s, pf.branch_id)
    params = {"branch_id": pf.branch_id, "cutoff": prescription_cutoff(pf.today, policy.prescription_years),
              "last_due": pf.today - dt.timedelta(days=criteria.min_days_overdue), "min_amount": policy.min_amount}

    statement = bare_statement()

    def routine() -> list[tuple[int, int]]:
        with sessions() as s:
            return select_eligible(s, pf.branch_id, criteria)

    def bare() -> list[tuple[int, int]]:
        with sessions() as s:
            return [(r[0], r[1]) for r in s.execute(statement, params)]

    # Interleaved, so both see the same cache state; the best of `runs` each.
    routine_times, bare_times = [], []
    routine_rows: list[tuple[int, int]] = []
    bare_rows: list[tuple[int, int]] = []
    for i in range(runs):
        _, t, routine_rows = _best_of(routine, 1)
        routine_times += t
        _, t, bare_rows = _best_of(bare, 1)
        bare_times += t
        log(f"  run {i + 1}: select_eligible {routine_times[-1]:.3f}s, bare SQL {bare_times[-1]:.3f}s")
    if set(routine_rows) != set(bare_rows):
        only_routine = sorted(set(routine_rows) - set(bare_rows))[:10]
        only_bare = sorted(set(bare_rows) - set(routine_rows))[:10]
        log(f"ERROR: the selections differ: select_eligible {len(routine_rows)} rows, bare SQL {len(bare_rows)}; "
            f"only in select_eligible {only_routine}, only in bare SQL {only_bare}")
        raise SystemExit(1)
    if routine_rows != bare_rows:
        log("  note: same set, different order")
    selection_s, bare_s = min(routine_times), min(bare_times)
    ratio = selection_s / bare_s if bare_s else float("inf")
    with sessions() as s:
        t0 = time.perf_counter()
        reasons = Counter(r.reason_code or "eligible" for r in select_candidates(s, pf.branch_id, criteria))
        candidates_s = time.perf_counter() - t0
        live = s.scalar(select(func.count()).select_from(NegativationTitle).where(NegativationTitle.live.is_(True)))
    log(f"  {len(routine_rows):,} eligible titles of {len({p for _, p in routine_rows}):,} clients; "
        f"collectible titles by reason ({sum(reasons.values()):,}, candidates_select {candidates_s:.2f}s): "
        + ", ".join(f"{k} {v:,}" for k, v in reasons.most_common()) + f"; live negativated titles {live:,}")
    if explain or ratio > TARGET_RATIO:
        show_plans(db, pf, criteria, policy, params)
    return {"eligible": len(routine_rows), "selection_s": round(selection_s, 4), "bare_sql_s": round(bare_s, 4),
            "selection_vs_sql_ratio": round(ratio, 3)}


def show_plans(db: Database, pf: portfolio.Portfolio, criteria: Criteria, policy, params: dict) -> None:
    stmt = eligible_titles_select(pf.branch_id, criteria, policy)
    routine_sql = str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if db.kind == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    with db.engine.connect() as conn:
        plans = (("select_eligible", conn.exec_driver_sql(prefix + routine_sql)),
                 ("bare SQL", conn.execute(bare_statement(prefix), params)))
        for label, result in plans:
            rows = result.all()
            plan = "\n".join("    " + " | ".join(str(c) for c in r) for r in rows)
            log(f"  plan of {label}:\n{plan}")


# --------------------------------------------------------------------------- (b) sending


def _simulator_child(conn, config: SimulatorConfig) -> None:
    """`--simulator process`: the same server in a child process, so its CPU is not the routine's GIL."""
    url, stop = start_in_thread(config)
    conn.send(url)
    conn.recv()
    stop()
    conn.send("stopped")


def start_simulator(config: SimulatorConfig, where: str) -> tuple[str, Callable[[], None]]:
    if where == "thread":
        return start_in_thread(config)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_simulator_child, args=(child, config), name="bureau-simulator", daemon=True)
    proc.start()
    url = parent.recv()

    def stop() -> None:
        parent.send("stop")
        parent.recv()
        proc.join(timeout=10)

    return url, stop


def _spin(stop, pin: bool) -> None:
    """`--busy-core`: another program using a whole core (a busy loop), as on a shared machine."""
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    n = 0
    while not stop.is_set():
        for _ in range(100_000):
            n = (n * 1_103_515_245 + 12_345) & 0xFFFFFFFF


def start_busy_core(mode: str | None) -> Callable[[], None]:
    """Start the spinning process (`pinned` to the last CPU, or `free` for the scheduler to place);
    returns the function that stops it."""
    if not mode:
        return lambda: None
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    proc = ctx.Process(target=_spin, args=(stop, mode == "pinned"), name="busy-core", daemon=True)
    proc.start()
    log(f"  busy core: a spinning process ({mode}), pid {proc.pid}")

    def halt() -> None:
        stop.set()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)

    return halt


def send_phase(db: Database, pf: portfolio.Portfolio, key: str, simulator: str = "thread",
               busy_core: str | None = None) -> dict[str, Any]:
    box = SecretBox(key)
    stop_spinning = start_busy_core(busy_core)
    base_url, stop = start_simulator(SimulatorConfig(latency_ms=LATENCY_MS, rate_limit_per_s=RATE_LIMIT_PER_S,
                                                     request_log=False), simulator)
    try:
        with db.engine.begin() as conn:
            conn.execute(update(BureauIntegration.__table__).where(BureauIntegration.id == pf.integration_id).values(
                base_url=base_url, client_id="demo-client", client_secret_encrypted=box.encrypt("demo-secret"),
                access_token_encrypted=None, token_expires_at=None))
        config = {"DATABASE_URL": db.url, "ENCRYPTION_KEY": key, "SECRET_KEY": secrets.token_urlsafe(32),
                  "SIMULATOR_URL": base_url, "BUREAU_CONNECT_TIMEOUT": 3.05, "BUREAU_READ_TIMEOUT": 10.0,
                  "BUREAU_MAX_ATTEMPTS": 4, "TESTING": False}
        services = bootstrap(config, engine=db.engine)  # the real client factory (HTTP, DB token store)
        marks = {"next": 0.1}
        t0 = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if total and done / total >= marks["next"]:
                marks["next"] += 0.1
                spent = time.perf_counter() - t0
                log(f"  sent {done:,}/{total:,} ({spent:.1f}s, {done / spent:.1f}/s)")

        cpu0, load0 = time.process_time(), os.getloadavg()[0]
        summary = run_branch(services, Actor.system("benchmark"), pf.send_branch_id, today=pf.today, progress=progress)
        elapsed = time.perf_counter() - t0
        cpu, load1 = time.process_time() - cpu0, os.getloadavg()[0]
        stats = requests.get(f"{base_url}/_sim/stats", timeout=10).json()
    finally:
        stop()
        stop_spinning()
    for line in summary.lines():
        log("  " + line)
    with make_session_factory(db.engine)() as s:
        double_live = s.scalar(select(func.count()).select_from(
            select(NegativationTitle.title_id).where(NegativationTitle.live.is_(True))
            .group_by(NegativationTitle.title_id).having(func.count() > 1).subquery()))
        live_send = s.scalar(select(func.count(func.distinct(NegativationTitle.title_id)))
                             .join(Title, Title.id == NegativationTitle.title_id)
                             .where(NegativationTitle.live.is_(True), Title.branch_id == pf.send_branch_id))
        first, last = s.execute(select(func.min(Negativation.created_at), func.max(Negativation.sent_at))
                                .where(Negativation.branch_id == pf.send_branch_id)).one()
    sent = int(stats["negativations_created"])
    window = (last - first).total_seconds() if first and last else 0.0
    log(f"  simulator: {sent:,} created, {stats['negativations_replayed']} replayed, {stats['tokens']} token(s), "
        f"{stats['rate_limited']} rate-limited (429), faults {stats['faults']}, statuses {stats['statuses']}")
    log(f"  run_branch {elapsed:.2f}s; first negativation row to last acceptance {window:.2f}s "
        f"({sent / window if window else 0:.1f}/s); live send-branch titles {live_send:,}; "
        f"titles in two live negativations {double_live}")
    if summary.status != "done" or live_send != pf.send_titles:
        log(f"WARNING: run {summary.status}, {live_send} of {pf.send_titles} send titles negativated")
    rate = sent / elapsed if elapsed else 0.0
    per = cpu / sent * 1000 if sent else None
    if sent:
        # The routine's worker threads and the in-process simulator share one interpreter (one GIL): the
        # process cannot use more than one core, so CPU per negativation bounds the rate.
        per = cpu / sent * 1000
        log(f"  process CPU {cpu:.1f}s over {elapsed:.1f}s ({cpu / elapsed:.0%} of one core): {per:.1f} ms per "
            f"negativation, a ceiling of ~{1000 / per:.0f}/s for one process; load average {load0:.1f} -> {load1:.1f}")
    return {"sent": sent, "send_rate_per_s": round(rate, 2), "rate_limit_per_s": RATE_LIMIT_PER_S,
            "send_rate_vs_limit": round(rate / RATE_LIMIT_PER_S, 3),
            "cpu_ms_per_negativation": round(per, 2) if per is not None else None,
            "load_average": [round(load0, 1), round(load1, 1)], "busy_core": busy_core,
            "duplicates": int(stats["duplicate_titles"]) + int(double_live or 0), "_send_s": elapsed}


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=100_000, help="clients of the main branch (100,000)")
    p.add_argument("--titles", type=int, default=1_000_000, help="titles of the main branch (1,000,000)")
    p.add_argument("--send", type=int, default=2_000, help="eligible clients to send (2,000)")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default=None,
                   help="postgresql: the local server (postgres@127.0.0.1:5432); sqlite: a file under "
                        "benchmarks/out/ (the default without --database-url or DATABASE_URL)")
    p.add_argument("--database-url", default=None, help="default: DATABASE_URL, else a new SQLite file")
    p.add_argument("--reuse", action="store_true",
                   help="build the portfolio once as a template and run on a fresh copy of it (the first run "
                        "builds it; later runs with the same --clients/--titles/--send/--seed copy it)")
    p.add_argument("--skip-selection", action="store_true")
    p.add_argument("--skip-send", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the database (SQLite file / PostgreSQL schema)")
    p.add_argument("--runs", type=int, default=3, help="selection runs, the best counts (3)")
    p.add_argument("--explain", action="store_true", help="print both query plans even within target")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--busy-core", nargs="?", const="free", choices=("free", "pinned"), default=None,
                   help="keep another core busy during the send phase with a spinning process, as on a "
                        "shared machine: `free` (the default) lets the OS place it, `pinned` ties it to the "
                        "last CPU")
    p.add_argument("--simulator", choices=("thread", "process"), default="process",
                   help="run the simulator in a child process (default: the bureau is another machine, it "
                        "must not share the routine's interpreter lock) or in a thread of this process")
    args = p.parse_args(argv)
    if args.clients < 1 or args.titles < 0 or args.send < 0 or args.runs < 1:
        p.error("--clients and --runs must be >= 1, --titles and --send >= 0")
    if args.database and args.database_url:
        p.error("--database and --database-url: give one")
    if args.database == "postgresql":
        args.database_url = reuse.LOCAL_POSTGRES
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    key = Fernet.generate_key().decode()
    today = today_br()
    built: portfolio.Portfolio | None = None
    if args.reuse:
        url, built, drop, where = reuse.prepare(args.database_url or os.environ.get("DATABASE_URL"), key,
                                                clients=args.clients, titles=args.titles, send=args.send,
                                                seed=args.seed, today=today, log=log)
        db = Database(url, make_engine(url), "postgresql" if url.startswith("postgresql") else "sqlite", where,
                      [drop])
        today = built.today
    else:
        db = open_database(args.database_url)
    result: dict[str, Any] = {"titles": None, "eligible": None, "selection_s": None, "bare_sql_s": None,
                              "selection_vs_sql_ratio": None, "sent": None, "send_rate_per_s": None,
                              "rate_limit_per_s": RATE_LIMIT_PER_S, "send_rate_vs_limit": None,
                              "cpu_ms_per_negativation": None, "load_average": None, "busy_core": None,
                              "duplicates": None,
                              "database": db.kind}
    timings: dict[str, float] = {}
    try:
        log(f"[machine] {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        log(f"[build] {args.clients:,} clients, {args.titles:,} titles (+ {args.send:,} to send) on {db.kind} "
            f"({db.where}), today {today}")
        pf = built or portfolio.build(db.engine, SecretBox(key), clients=args.clients, titles=args.titles,
                                      send_clients=args.send, today=today, seed=args.seed, log=log)
        timings.update(pf.timings)
        result["titles"] = pf.titles
        log(f"[build] {pf.timings['build_s']:.1f}s; profiles {pf.profiles}; {pf.negativations} earlier negativations")
        if not args.skip_selection:
            log(f"[selection] select_eligible vs bare SQL, best of {args.runs}")
            t0 = time.perf_counter()
            result.update(selection_phase(db, pf, args.runs, args.explain))
            timings["selection_phase_s"] = time.perf_counter() - t0
        if not args.skip_send and args.send:
            log(f"[send] {args.send:,} clients through run_branch → simulator ({LATENCY_MS} ms, "
                f"{RATE_LIMIT_PER_S}/s, in a {args.simulator})")
            sent = send_phase(db, pf, key, args.simulator, args.busy_core)
            timings["send_s"] = sent.pop("_send_s")
            result.update(sent)
    finally:
        db.close(keep=args.keep)
    log("[timings] " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    verdicts = []
    if result["selection_vs_sql_ratio"] is not None:
        verdicts.append(f"selection ratio {result['selection_vs_sql_ratio']} "
                        f"{'OK' if result['selection_vs_sql_ratio'] <= TARGET_RATIO else 'ABOVE'} {TARGET_RATIO}")
    if result["send_rate_vs_limit"] is not None:
        verdicts.append(f"send rate {result['send_rate_vs_limit']} "
                        f"{'OK' if result['send_rate_vs_limit'] >= TARGET_SEND else 'BELOW'} {TARGET_SEND}")
        per = result["cpu_ms_per_negativation"]
        if per is not None:
            verdict = "OK" if per <= TARGET_CPU_MS else "ABOVE"
            verdicts.append(f"CPU per negativation {per} ms {verdict} {TARGET_CPU_MS}")
        verdicts.append(f"duplicates {result['duplicates']}")
    log("[targets] " + "; ".join(verdicts))
    print(json.dumps(result), flush=True)
    return 1 if result["duplicates"] else 0


if __name__ == "__main__":
    sys.exit(main())
