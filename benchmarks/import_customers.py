"""Benchmark of the inbound customer import (the platform's "envio massivo" at go-live). A script, not a test.

    .venv/bin/python benchmarks/import_customers.py [--customers 100000] [--batch-size 1000] [--keep]

1. Generates an XML file of `--customers` customers (docs/commerce-xml.md), streamed to disk, and a
   second file with the same customers (same ids and CNPJs) and changed e-mail, phones and address.
2. Imports the first file into an empty SQLite database (all inserts), then the second into the same
   database (all updates), exactly as `creditdesk import-customers` does: the real service,
   streaming the file, committing each batch.
3. Checks the counts and a sample of rows, and measures the peak resident memory of the process.

Progress goes to stderr; the LAST stdout line is the JSON result:
{"customers": …, "insert_per_s": …, "update_per_s": …, "peak_rss_mb": …}. Targets: ≥ 5,000
customers/s for both, peak memory under 200 MB whatever the file size. Exit status 1 when a count
or a sampled row is wrong.
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
import tempfile
import threading
import time

from sqlalchemy import func, select

from app.db import make_engine, make_session_factory
from app.models import Base, Branch, Party
from app.services.commerce.customer_import import ImportSummary
from app.services.commerce.import_file import import_customer_file
from app.services.core.audit import Actor
from integrations.commerce.samples import cnpj_for, customer, write_batch

OUT = Path(__file__).resolve().parent / "out"


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
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            try:
                pids.extend((task / "children").read_text().split())
            except OSError:
                continue
        return pids

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--single-process", action="store_true", help="parse and write in one process")
    parser.add_argument("--keep", action="store_true", help="keep the XML files and the database")
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

    engine = make_engine(f"sqlite:///{workdir / 'bench.sqlite3'}")
    Base.metadata.create_all(engine)
    session_factory = make_session_factory(engine)
    with session_factory() as s:
        branch = Branch(name="Distribuidora Benchmark", cnpj="11222333000181", state="SP")
        s.add(branch)
        s.commit()
        branch_id = branch.id

    parallel = False if args.single_process else None
    child_memory = ChildMemory()
    inserted, insert_s, insert_cpu = run_import(session_factory, new_xml, branch_id, args.batch_size, parallel)
    log(f"inserção: {inserted.created} criados, {inserted.refused} recusados em {insert_s:.1f} s "
        f"({args.customers / insert_s:,.0f}/s; CPU deste processo {insert_cpu:.1f} s)")
    updated, update_s, update_cpu = run_import(session_factory, changed_xml, branch_id, args.batch_size, parallel)
    log(f"atualização: {updated.updated} atualizados, {updated.refused} recusados em {update_s:.1f} s "
        f"({args.customers / update_s:,.0f}/s; CPU deste processo {update_cpu:.1f} s)")
    reader_mb = child_memory.stop()
    log(f"pico de memória: este processo {peak_rss_mb():.0f} MB, processo de leitura do XML {reader_mb:.0f} MB; "
        f"carga da máquina {os.getloadavg()[0]:.1f} em {os.cpu_count()} CPUs")

    problems = check_rows(session_factory, args.customers, variant=1)
    if (inserted.created, updated.updated) != (args.customers, args.customers):
        problems.append(f"counts: created {inserted.created}, updated {updated.updated}")
    engine.dispose()
    for problem in problems:
        log(f"ERRO: {problem}")
    if args.keep:
        log(f"arquivos mantidos em {workdir}")
    else:
        shutil.rmtree(workdir)
    # Peak memory: this process plus the XML reader (their peaks added: an upper bound).
    peak = peak_rss_mb() + reader_mb
    print(json.dumps({"customers": args.customers, "insert_per_s": round(args.customers / insert_s),
                      "update_per_s": round(args.customers / update_s), "peak_rss_mb": round(peak, 1)}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
