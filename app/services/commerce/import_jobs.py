"""Customer XML files uploaded on the web screen, imported by the same streaming service as the
CLI (`import_file.import_customer_file`), in a thread of the web process so the page can show the
progress; each file is a `CustomerImport` row: progress while it runs, per-customer results and
totals when it ends (the imports history).

Every batch is committed as it is written (as with the CLI): a file that fails half-way keeps the
customers written before the failure, and its row says so.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import transaction
from app.models import Branch, CustomerImport
from app.services.commerce.customer_import import ImportItem
from app.services.commerce.import_file import import_customer_file
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import DomainError, NotFound, ValidationError

ITEMS_KEPT = 2000  # per-customer results kept for the page; refusals first, the totals are always whole
PROGRESS_EVERY_S = 0.5
RESULT_LABELS = {"created": "Criado (PEN)", "updated": "Atualizado", "refused": "Recusado"}


def start(session: Session, actor: audit.Actor, branch_id: int | None, filename: str, size: int) -> CustomerImport:
    """The row of a new upload (the caller commits, then calls `run` with the saved file)."""
    if not branch_id or session.get(Branch, branch_id) is None:
        raise ValidationError("Escolha a filial que recebe os clientes.", field_errors={"branch_id": "obrigatória"})
    if not filename or size <= 0:
        raise ValidationError("Escolha um arquivo XML de clientes.", field_errors={"file": "obrigatório"})
    row = CustomerImport(branch_id=branch_id, filename=filename[:200], size_bytes=size, requested_by=actor.name[:80],
                         items=[])
    session.add(row)
    session.flush()
    return row


def run(services, actor: audit.Actor, import_id: int, path: str | os.PathLike) -> None:
    """Import the saved file into the row's branch, recording progress and results; never raises
    (a failure is written on the row); the file is deleted at the end."""
    read, last = [0], [0.0]
    refused: list[dict] = []
    others: list[dict] = []

    counts = {"created": 0, "updated": 0, "refused": 0}

    def on_item(item: ImportItem) -> None:
        counts[item.result] += 1
        if len(refused) + len(others) >= ITEMS_KEPT:
            if item.result != "refused" or not others:
                return
            others.pop()  # a refusal matters more than one more "atualizado"
        (refused if item.result == "refused" else others).append(
            {"index": item.index, "external_id": item.external_id, "result": item.result,
             "party_id": item.party_id, "reason": item.reason})

    def on_progress(n: int) -> None:
        read[0] += n
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
            last[0] = time.monotonic()
            with transaction(services.session_factory) as s:
                s.get(CustomerImport, import_id).read_bytes = read[0]

    with services.session_factory() as s:
        branch_id = s.get(CustomerImport, import_id).branch_id
    status, message = "done", None
    try:
        with services.session_factory() as s:
            import_customer_file(s, actor, path, branch_id, on_item=on_item, on_progress=on_progress)
    except DomainError as exc:
        status, message = "failed", f"{exc.message} (os lotes anteriores ao erro foram gravados)"
    except Exception as exc:  # noqa: BLE001 - the row must end, whatever went wrong; the log has the rest
        status, message = "failed", f"Falha inesperada na importação ({type(exc).__name__})."
    finally:
        Path(path).unlink(missing_ok=True)
    with transaction(services.session_factory) as s:
        row = s.get(CustomerImport, import_id)
        row.status, row.message, row.finished_at = status, message, now_utc()
        row.read_bytes = row.size_bytes if status == "done" else read[0]
        row.items = sorted(refused + others, key=lambda i: i["index"])
        # Counted as reported, so a failed file still says what it wrote before the failure.
        row.created, row.updated, row.refused = counts["created"], counts["updated"], counts["refused"]


def run_in_background(services, actor: audit.Actor, import_id: int, path: str | os.PathLike) -> threading.Thread:
    thread = threading.Thread(target=run, args=(services, actor, import_id, path), name=f"customer-import-{import_id}",
                              daemon=True)
    thread.start()
    return thread


def get(session: Session, import_id: int) -> CustomerImport:
    row = session.get(CustomerImport, import_id)
    if row is None:
        raise NotFound("Importação não encontrada.")
    return row


def history(session: Session, *, branch_id: int | None = None, limit: int = 50) -> list[CustomerImport]:
    stmt = select(CustomerImport).order_by(CustomerImport.id.desc()).limit(limit)
    if branch_id:
        stmt = stmt.where(CustomerImport.branch_id == branch_id)
    return list(session.scalars(stmt))
