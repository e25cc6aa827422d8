"""Benchmark of the inbound customer import (the platform's "envio massivo" at go-live). A script, not a test.

    .venv/bin/python benchmarks/import_customers.py [--customers 100000] [--batch-size 2000]
        [--database sqlite|postgresql] [--database-url URL] [--posts 20] [--gunicorn-workers 4] [--keep]

1. Generates an XML file of `--customers` customers (docs/commerce-xml.md), streamed to disk, and a
   second file with the same customers (same ids and CNPJs) and changed e-mail, phones and address.
2. Imports the first file into an empty database (all inserts), then the second into the same
   database (all updates), exactly as `creditdesk import-customers` does: the real service,
   streaming the file, committing each batch.
3. The bare baseline, in another empty database: the same files read by the same parser (the same
   reader process for a large file), each batch written with ONE bulk statement (an executemany
   INSERT, then an executemany UPDATE by platform id), no matching, no protected fields, no history.
   `insert_vs_bare` and `update_vs_bare` are bare time / import time: 1.0 means the rules cost
   nothing, 0.5 that the import takes twice the bare writes.
4. Checks the counts and a sample of rows, and measures the peak resident memory of the process.
5. The inbound endpoint: the app served by gunicorn (`--gunicorn-workers` sync workers, as in
   production), `--posts` signed posts of ONE new customer each (POST /api/v1/commerce/customers,
   X-Timestamp/X-Signature over the body with the branch's platform secret), all at once from as
   many threads: customers/s, p95 latency and errors (any answer but 200 with one customer created).

`--database postgresql` uses `--database-url` (else DATABASE_URL) with a private schema per
database (`options=-csearch_path=<schema>`), dropped at the end unless `--keep`; SQLite uses new
files under benchmarks/out/.

Progress goes to stderr; the LAST stdout line is the JSON result:
{"customers": …, "database": …, "insert_per_s": …, "update_per_s": …, "bare_insert_per_s": …,
"bare_update_per_s": …, "insert_vs_bare": …, "update_vs_bare": …, "peak_rss_mb": …, "http": {…}}.
Targets: insert_vs_bare and update_vs_bare ≥ 0.5, peak memory under 200 MB whatever the file
size, 0 HTTP errors. Exit status 1 when a count or a sampled row is wrong or an HTTP post failed.
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
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from cryptography.fernet import Fernet
from sqlalchemy import bindparam, func, insert, select, update

from app.db import make_session_factory
from app.models import Base, Branch, CreditPolicy, Party
from app.services.commerce.customer_import import DATA_COLUMNS, ImportSummary, _executemany
from app.services.commerce.customer_xml import CustomerRecord, iter_customers
from app.services.commerce.import_file import PARALLEL_FROM_BYTES, _read_by_child, import_customer_file
from app.services.core.audit import Actor
from app.services.core.clock import now_utc
from app.services.core.crypto import SecretBox
from app.services.settings import users as user_service
from benchmarks.collections import Database, open_database
from integrations.commerce.samples import cnpj_for, customer, write_batch
from integrations.commerce.signing import inbound_headers

OUT = Path(__file__).resolve().parent / "out"
TARGET_VS_BARE = 0.5
TARGET_PEAK_MB = 200
PLATFORM_SECRET = "benchmark-platform-secret"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class ChildMemory:
    """Peak resident memory of this process's children (the XML reader), sampled from /proc.

    getrusage(RUSAGE_CHILDREN) would count the parent's pages the child shared between fork and
    exec; VmHWM of the running child counts only its own.
    """

    def __init__(self, interval: float = 0.1):
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            for pid in self._children():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    @staticmethod
    def _children() -> list[str]:
        pids: list[str] = []
        own = Path(f"/proc/{os.getpid()}/cmdline").read_bytes()
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            try:
                pids.extend((task / "children").read_text().split())
            except OSError:
                continue
        # A child caught between fork and exec still shows this process's memory (and command line).
        return [p for p in pids if _cmdline(p) not in (own, b"")]

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def run_import(session_factory, path: Path, branch_id: int, batch_size: int, parallel: bool | None
               ) -> tuple[ImportSummary, float, float]:
    """The CLI's import; returns the summary, the wall-clock seconds and this process's CPU seconds."""
    with session_factory() as s:
        started, cpu = time.perf_counter(), time.process_time()
        summary = import_customer_file(s, Actor.system("benchmark"), path, branch_id, batch_size=batch_size,
                                       parallel=parallel)
        return summary, time.perf_counter() - started, time.process_time() - cpu


def check_rows(session_factory, count: int, variant: int) -> list[str]:
    problems = []
    with session_factory() as s:
        total = s.scalar(select(func.count()).select_from(Party))
        if total != count:
            problems.append(f"{total} parties instead of {count}")
        for n in sorted({1, count // 2, count}):
            expected = customer(n, variant)
            row = s.scalar(select(Party).where(Party.external_id == expected["id"]))
            got = None if row is None else (row.document, row.email, row.phone, row.street, row.status)
            want = (cnpj_for(n), expected["email"], expected["telefone"], expected["logradouro"], "PEN")
            if got != want:
                problems.append(f"customer {n}: {got} != {want}")
    return problems


def records(path: Path, parallel: bool):
    """The file's customers through the import's own parser (and its reader process for a large file)."""
    if parallel:
        yield from _read_by_child(os.fspath(path), None)
        return
    with path.open("rb") as fh:
        yield from iter_customers(fh)


def bare_write(engine, path: Path, branch_id: int, batch_size: int, parallel: bool, *, updating: bool) -> float:
    """The bare baseline: each batch of parsed customers written with ONE executemany statement (the
    import's own driver-level executemany), committed per batch; no rule at all. Returns seconds."""
    parties = Party.__table__
    if updating:
        # SET: every column of the row's keys (all the XML's fields), as the import's own updates.
        stmt = update(parties).where(parties.c.branch_id == bindparam("bid"), parties.c.external_id == bindparam("ext"))
    else:
        stmt = insert(parties)
    session_factory = make_session_factory(engine)
    started = time.perf_counter()
    with session_factory() as s:
        instant = parties.c.updated_at.type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
        batch: list[dict] = []

        def flush() -> None:
            if batch:
                _executemany(s, stmt, batch)
                s.commit()
                batch.clear()

        for rec in records(path, parallel):
            if not isinstance(rec, CustomerRecord):
                continue
            now = instant(now_utc()) if instant else now_utc()
            values = {c: rec.values.get(c) for c in DATA_COLUMNS if c not in ("external_id", "document",
                                                                                "document_kind")}
            if updating:
                batch.append({"bid": branch_id, "ext": rec.external_id, "updated_at": now, "document": rec.document,
                              "document_kind": "CPF" if len(rec.document) == 11 else "CNPJ", **values})
            else:
                batch.append({"branch_id": branch_id, "stage": "client", "status": "PEN", "created_at": now,
                              "updated_at": now, "became_client_at": now, "search_name": None,
                              "external_id": rec.external_id, "document": rec.document,
                              "document_kind": "CPF" if len(rec.document) == 11 else "CNPJ", **values})
            if len(batch) >= batch_size:
                flush()
        flush()
    return time.perf_counter() - started


def prepare(db: Database) -> tuple[int, str]:
    """Tables, the branch (with its platform secret) and an API user; returns (branch id, API token)."""
    Base.metadata.create_all(db.engine)
    session_factory = make_session_factory(db.engine)
    box = SecretBox(db.key)
    with session_factory() as s:
        branch = Branch(name="Distribuidora Benchmark", cnpj="11222333000181", state="SP")
        s.add(branch)
        s.flush()
        s.add(CreditPolicy(branch_id=branch.id, platform_secret_encrypted=box.encrypt(PLATFORM_SECRET)))
        user = user_service.create_user(s, Actor.system("benchmark"), username="plataforma", name="Plataforma",
                                        password="benchmark-password-1", role="crm")
        _, token = user_service.create_api_token(s, Actor.system("benchmark"), user, "plataforma")
        s.commit()
        return branch.id, token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_posts(db: Database, branch_id: int, token: str, posts: int, workers: int, first: int) -> dict:
    """`posts` signed posts of one new customer each, all at once, to the app under gunicorn."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db.url, "ENCRYPTION_KEY": db.key, "SECRET_KEY": "benchmark-" + "x" * 40,
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "python:app.gunicorn_conf",
                               "-w", str(workers), "-b",
                               f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
                              env=env, cwd=Path(__file__).resolve().parents[1])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:  # the workers import the app first: on a busy machine that takes seconds
                ready = requests.get(base + "/healthz", timeout=10).status_code == 200
            except requests.RequestException:
                ready = False  # not listening yet
            if ready:
                break
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        url = f"{base}/api/v1/commerce/customers?branch={branch_id}"

        def post(body: bytes) -> tuple[float, int, str]:
            start_gate.wait()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml",
                       **inbound_headers(PLATFORM_SECRET, body)}  # signed when sent (docs/commerce-xml.md)
            t0 = time.perf_counter()
            try:
                r = requests.post(url, data=body, headers=headers, timeout=60)
            except requests.RequestException as exc:
                return time.perf_counter() - t0, 0, str(exc)
            ok = r.status_code == 200 and r.json().get("created") == 1
            return time.perf_counter() - t0, r.status_code, "" if ok else r.text[:200]

        def round_of(start: int) -> tuple[list[tuple[float, int, str]], float]:
            bodies = []
            for n in range(start, start + posts):
                with tempfile.TemporaryFile() as fh:
                    write_batch(fh, n, 1)
                    fh.seek(0)
                    bodies.append(fh.read())
            nonlocal start_gate
            start_gate = threading.Barrier(posts)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=posts) as pool:
                out = list(pool.map(post, bodies))
            return out, time.perf_counter() - t0

        start_gate = threading.Barrier(posts)
        # A first round wakes every worker (gunicorn loads the app in each one, after /healthz answered
        # from the first): its figures are logged, the second round's are the result.
        cold, cold_wall = round_of(first)
        log(f"HTTP, primeira rodada (workers frios): {posts} posts em {cold_wall:.2f} s, "
            f"{sum(1 for r in cold if r[2])} erro(s)")
        results, wall = round_of(first + posts)
        results += [r for r in cold if r[2]]  # an error in either round counts
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies = sorted(r[0] for r in results)
    errors = [r for r in results if r[2]]
    for _, status, text in errors[:5]:
        log(f"ERRO HTTP {status}: {text}")
    p95 = latencies[min(len(latencies) - 1, max(0, int(round(0.95 * len(latencies))) - 1))]
    return {"posts": posts, "gunicorn_workers": workers, "customers_per_s": round((posts - len(errors)) / wall, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1), "p95_ms": round(p95 * 1000, 1),
            "errors": len(errors)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default=None, help="PostgreSQL: default DATABASE_URL")
    parser.add_argument("--posts", type=int, default=20, help="concurrent HTTP posts of one customer (20; 0: none)")
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--single-process", action="store_true", help="parse and write in one process")
    parser.add_argument("--keep", action="store_true", help="keep the XML files and the databases")
    args = parser.parse_args(argv)

    OUT.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="import-customers-", dir=OUT))
    new_xml, changed_xml = workdir / "clientes.xml", workdir / "clientes-alterados.xml"
    started = time.perf_counter()
    with new_xml.open("wb") as fh:
        size = write_batch(fh, 1, args.customers)
    with changed_xml.open("wb") as fh:
        write_batch(fh, 1, args.customers, variant=1)
    log(f"XML: {args.customers} clientes, {size / 1e6:.1f} MB por arquivo ({time.perf_counter() - started:.1f} s)")

    def database(name: str) -> Database:
        if args.database == "sqlite":
            db = open_database(f"sqlite:///{workdir / (name + '.sqlite3')}")
        else:
            url = args.database_url or os.environ.get("DATABASE_URL")
            if not url or not url.startswith("postgresql"):
                raise SystemExit("--database postgresql needs --database-url or DATABASE_URL (postgresql://...)")
            db = open_database(url)
        db.key = Fernet.generate_key().decode()
        return db

    real, bare = database("bench"), database("bare")
    problems: list[str] = []
    try:
        branch_id, token = prepare(real)
        bare_branch, _ = prepare(bare)
        session_factory = make_session_factory(real.engine)
        parallel = False if args.single_process else None
        use_reader = parallel if parallel is not None else size >= PARALLEL_FROM_BYTES
        child_memory = ChildMemory()
        bare_insert_s = bare_write(bare.engine, new_xml, bare_branch, args.batch_size, use_reader, updating=False)
        log(f"base (INSERT em lote, sem regras): {args.customers / bare_insert_s:,.0f}/s")
        inserted, insert_s, insert_cpu = run_import(session_factory, new_xml, branch_id, args.batch_size, parallel)
        log(f"inserção: {inserted.created} criados, {inserted.refused} recusados em {insert_s:.1f} s "
            f"({args.customers / insert_s:,.0f}/s; CPU deste processo {insert_cpu:.1f} s)")
        bare_update_s = bare_write(bare.engine, changed_xml, bare_branch, args.batch_size, use_reader,
                                   updating=True)
        log(f"base (UPDATE em lote, sem regras): {args.customers / bare_update_s:,.0f}/s")
        updated, update_s, update_cpu = run_import(session_factory, changed_xml, branch_id, args.batch_size,
                                                   parallel)
        log(f"atualização: {updated.updated} atualizados, {updated.refused} recusados em {update_s:.1f} s "
            f"({args.customers / update_s:,.0f}/s; CPU deste processo {update_cpu:.1f} s)")
        reader_mb = child_memory.stop()
        log(f"pico de memória: este processo {peak_rss_mb():.0f} MB, processo de leitura do XML {reader_mb:.0f} MB; "
            f"carga da máquina {os.getloadavg()[0]:.1f} em {os.cpu_count()} CPUs")
        problems += check_rows(session_factory, args.customers, variant=1)
        if (inserted.created, updated.updated) != (args.customers, args.customers):
            problems.append(f"counts: created {inserted.created}, updated {updated.updated}")
        http = None
        if args.posts:
            http = http_posts(real, branch_id, token, args.posts, args.gunicorn_workers, args.customers + 1)
            log(f"HTTP: {http}")
            if http["errors"]:
                problems.append(f"{http['errors']} HTTP post(s) failed")
    finally:
        real.close(keep=args.keep)
        bare.close(keep=args.keep)
    for problem in problems:
        log(f"ERRO: {problem}")
    if args.keep:
        log(f"arquivos mantidos em {workdir}")
    else:
        shutil.rmtree(workdir)
    # Peak memory: this process plus the XML reader (their peaks added: an upper bound).
    peak = peak_rss_mb() + reader_mb
    result = {"customers": args.customers, "database": real.kind, "insert_per_s": round(args.customers / insert_s),
              "update_per_s": round(args.customers / update_s),
              "bare_insert_per_s": round(args.customers / bare_insert_s),
              "bare_update_per_s": round(args.customers / bare_update_s),
              "insert_vs_bare": round(bare_insert_s / insert_s, 3),
              "update_vs_bare": round(bare_update_s / update_s, 3),
              "peak_rss_mb": round(peak, 1), "load_average": round(os.getloadavg()[0], 1), "http": http}
    verdicts = [f"{k} {result[k]} {'OK' if result[k] >= TARGET_VS_BARE else 'BELOW'} {TARGET_VS_BARE}"
                for k in ("insert_vs_bare", "update_vs_bare")]
    verdicts.append(f"peak {result['peak_rss_mb']} MB {'OK' if peak < TARGET_PEAK_MB else 'ABOVE'} {TARGET_PEAK_MB}")
    log("[targets] " + "; ".join(verdicts))
    print(json.dumps(result), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
