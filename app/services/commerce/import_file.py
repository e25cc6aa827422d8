"""Importing a customer XML file of any size (the CLI, the benchmark): parsing and writing overlap.

Parsing and validating the XML (defusedxml, document checks) and writing to the database are both
CPU-bound Python; in one process they add up. For a large file, a reader process
(`customer_xml` run as a script, importing only the parser and two core modules: `_READER`) parses
and validates and hands the customers over in chunks through a pipe, while this process writes them: the two
run at once on two cores. Small files are read in this process. Memory stays flat in both: the
reader keeps one chunk, the pipe a few.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from app.services.commerce.customer_import import (
    DEFAULT_BATCH,
    ImportItem,
    ImportSummary,
    import_customers,
    import_items,
)
from app.services.commerce.customer_xml import BodyTooLarge, CustomerRecord, Refusal, XmlRejected
from app.services.core import audit
from app.services.core.errors import DomainError

PARALLEL_FROM_BYTES = 8 * 1024 * 1024
# The reader runs `customer_xml` as __main__ with the `app` package registered bare: importing it the
# ordinary way runs app/__init__.py, which loads Flask, SQLAlchemy and the whole application (~45 MB
# of the reader's ~70) that the parser never uses; the memory bound is both processes together.
_READER = ("import runpy, sys, types; app = types.ModuleType('app'); app.__path__ = [sys.argv.pop(1)]; "
           "sys.modules['app'] = app; "
           "runpy.run_module('app.services.commerce.customer_xml', run_name='__main__', alter_sys=True)")


def import_customer_file(session: Session, actor: audit.Actor, path: str | os.PathLike, branch_id: int, *,
                         batch_size: int = DEFAULT_BATCH, on_item: Callable[[ImportItem], None] | None = None,
                         on_progress: Callable[[int], None] | None = None, parallel: bool | None = None
                         ) -> ImportSummary:
    """Import a file, committing each batch (a failure later in the file keeps the batches written).

    `parallel=None` uses a reader process when the file is 8 MB or more."""
    if parallel is None:
        parallel = os.path.getsize(path) >= PARALLEL_FROM_BYTES
    if not parallel:
        with open(path, "rb") as fh:
            return import_customers(session, actor, fh, branch_id, batch_size=batch_size, collect_items=False,
                                    on_item=on_item, on_progress=on_progress, commit_each_batch=True)
    return import_items(session, actor, _read_by_child(os.fspath(path), on_progress), branch_id,
                        batch_size=batch_size, collect_items=False, on_item=on_item, commit_each_batch=True)


def _read_by_child(path: str, on_progress: Callable[[int], None] | None) -> Iterator[CustomerRecord | Refusal]:
    root = Path(__file__).resolve().parents[3]  # the project root: `app` importable from any cwd
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p)}
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(root / "app"), path], stdout=subprocess.PIPE,
                              env=env)
    _widen_pipe(reader.stdout.fileno())
    try:
        while True:
            try:
                # Our own child process writes this stream (commerce_xml.write_chunks): trusted input.
                kind, payload, read = pickle.load(reader.stdout)  # noqa: S301
            except EOFError as exc:
                raise DomainError("A leitura do XML foi interrompida (o processo de leitura terminou).",
                                  code="reader_died") from exc
            if on_progress and read:
                on_progress(read)
            if kind == "items":
                for item in payload:  # plain tuples: pickled at C speed, unlike dataclasses
                    yield Refusal(*item[1:]) if item[0] == "refused" else CustomerRecord(*item[1:])
            elif kind == "error":
                error_type, message, code = payload
                raise BodyTooLarge(message) if error_type == "BodyTooLarge" else XmlRejected(message, code=code)
            else:
                return
    finally:
        reader.stdout.close()
        if reader.poll() is None:
            reader.kill()
        reader.wait()


def _widen_pipe(fd: int) -> None:
    """Let the reader parse ahead while this process writes a batch.

    A pipe holds 64 KiB, a fraction of one pickled chunk: the reader blocked as soon as the writer
    was busy, and the writer then waited for each chunk to be parsed, so the two processes took
    turns instead of running at once. 1 MiB (Linux's default cap for unprivileged processes) holds a
    few chunks; the memory is the kernel's, bounded, and counted in neither process."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or a lower cap: the import is then only slower
