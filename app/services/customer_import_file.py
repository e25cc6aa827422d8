"""Importing a customer XML file of any size (the CLI, the benchmark): parsing and writing overlap.

Parsing and validating the XML (defusedxml, document checks) and writing to the database are both
CPU-bound Python; in one process they add up. For a large file, a child process parses and
validates and hands the customers over in chunks, while this process writes them: the two run
at once on two cores. Small files are read in this process. Memory stays flat in both: the child
keeps one chunk, the pipe holds at most a few.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

from sqlalchemy.orm import Session

from . import audit
from .commerce_xml import BodyTooLarge, CustomerRecord, Refusal, XmlRejected, iter_customers
from .customer_import import DEFAULT_BATCH, ImportItem, ImportSummary, import_customers, import_items
from .errors import DomainError

PARALLEL_FROM_BYTES = 8 * 1024 * 1024
CHUNK_ITEMS = 1000


def import_customer_file(session: Session, actor: audit.Actor, path: str | os.PathLike, branch_id: int, *,
                         batch_size: int = DEFAULT_BATCH, on_item: Callable[[ImportItem], None] | None = None,
                         on_progress: Callable[[int], None] | None = None, parallel: bool | None = None
                         ) -> ImportSummary:
    """Import a file, committing each batch (a failure later in the file keeps the batches written).

    `parallel=None` parses in a child process when the file is larger than 8 MB."""
    if parallel is None:
        parallel = os.path.getsize(path) >= PARALLEL_FROM_BYTES
    if not parallel:
        with open(path, "rb") as fh:
            return import_customers(session, actor, fh, branch_id, batch_size=batch_size, collect_items=False,
                                    on_item=on_item, on_progress=on_progress, commit_each_batch=True)
    return import_items(session, actor, _parsed_by_child(str(path), on_progress), branch_id,
                        batch_size=batch_size, collect_items=False, on_item=on_item, commit_each_batch=True)


def _parsed_by_child(path: str, on_progress: Callable[[int], None] | None) -> Iterator[CustomerRecord | Refusal]:
    ctx = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited database connections
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_parse, args=(path, sender), name="customer-xml-parser", daemon=True)
    child.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload, read = receiver.recv()
            except EOFError as exc:
                raise DomainError("A leitura do XML foi interrompida (o processo de leitura terminou).",
                                  code="parser_died") from exc
            if on_progress and read:
                on_progress(read)
            if kind == "items":
                for item in payload:  # plain tuples: pickled at C speed, unlike dataclasses
                    yield Refusal(*item[1:]) if item[0] == "refused" else CustomerRecord(*item[1:])
            elif kind == "error":
                error_type, message, code = payload
                raise (BodyTooLarge(message) if error_type == "BodyTooLarge" else XmlRejected(message, code=code))
            else:
                return
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _parse(path: str, sender: Connection) -> None:
    """The child: parse and validate, send chunks of customers with the bytes read meanwhile."""
    read = [0]

    def progress(n: int) -> None:
        read[0] += n

    def send(kind: str, payload) -> None:
        sender.send((kind, payload, read[0]))
        read[0] = 0

    chunk: list[tuple] = []
    try:
        with open(path, "rb") as fh:
            for item in iter_customers(fh, on_progress=progress):
                if isinstance(item, Refusal):
                    chunk.append(("refused", item.index, item.external_id, item.code, item.message))
                else:
                    chunk.append(("record", item.index, item.external_id, item.document, item.values))
                if len(chunk) >= CHUNK_ITEMS:
                    send("items", chunk)
                    chunk = []
        send("items", chunk)
        send("done", None)
    except (XmlRejected, BodyTooLarge) as exc:
        send("items", chunk)
        send("error", (type(exc).__name__, exc.message, exc.code))
    finally:
        sender.close()
