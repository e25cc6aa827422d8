"""Customer XML files uploaded on the web screen, imported by the same streaming service as the
CLI (`import_file.import_customer_file`), in a thread of the web process so the page can show the
progress; each file is a `CustomerImport` row: progress while it runs, per-customer results and
totals when it ends (the imports history).

Every batch is committed as it is written (as with the CLI): a file that fails half-way keeps the
customers written before the failure, and its row says so.

Durable across restarts: the uploaded file is kept in the instance folder (`upload_path`) until the
import ends, and whoever imports it holds the lease `customer_import:<id>` with a heartbeat
(`app/services/core/locks.py`). If the web process dies mid-file, the lease lapses and the
scheduler's `customer_imports_resume` job (`resume_stalled`) runs the file again from the start:
the import writes by the platform's customer id (then the document), so customers written before
the crash are updated in place, never duplicated. A file that cannot be resumed (it is gone, or it
stopped MAX_ATTEMPTS times) ends "Interrompida" with the reason, and can be run again by a person.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import transaction
from app.models import Branch, CustomerImport, Party
from app.services.commerce.customer_import import ImportItem
from app.services.commerce.import_file import import_customer_file
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.errors import Conflict, DomainError, NotFound, ValidationError
from app.services.core.locks import LockBusy, held_with_heartbeat

ITEMS_KEPT = 2000  # per-customer results kept for the page; refusals first, the totals are always whole
PROGRESS_EVERY_S = 0.5
RESULT_LABELS = {"created": "Criado (PEN)", "updated": "Atualizado", "refused": "Recusado"}
# The importer renews its lease every LEASE_TTL/4; a lease that lapsed means its process is gone.
LEASE_TTL = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 3  # a file that brings its process down every time stops being retried


def lease_name(import_id: int) -> str:
    return f"customer_import:{import_id}"


def upload_path(config: dict, import_id: int) -> Path:
    """Where the uploaded file waits until its import ends: the instance folder, which the web
    process and the scheduler share."""
    return Path(config["INSTANCE_DIR"]) / "imports" / f"customer-import-{import_id}.xml"


def keep_upload(config: dict, import_id: int, saved: str | os.PathLike) -> Path:
    """Move the file saved by the upload to the row's own path (same folder: a rename)."""
    target = upload_path(config, import_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(os.fspath(saved), target)
    return target


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


def run(services, actor: audit.Actor, import_id: int) -> str:
    """Import the row's kept file under the row's lease, recording progress and results; never
    raises (a failure is written on the row). Returns what happened: "done", "failed",
    "interrupted", "busy" (another process holds the lease) or "ended" (nothing left to do)."""
    try:
        with held_with_heartbeat(services.session_factory, lease_name(import_id), LEASE_TTL):
            return _run_held(services, actor, import_id)
    except LockBusy:
        return "busy"


def _interrupt(services, import_id: int, message: str) -> None:
    with transaction(services.session_factory) as s:
        row = s.get(CustomerImport, import_id)
        row.status, row.message, row.finished_at = "interrupted", message, now_utc()


def _run_held(services, actor: audit.Actor, import_id: int) -> str:
    path = upload_path(services.config, import_id)
    with transaction(services.session_factory) as s:
        row = s.get(CustomerImport, import_id)
        if row is None or row.status != "running":
            return "ended"
        branch_id = row.branch_id
        if not path.exists():
            row.status, row.finished_at = "interrupted", now_utc()
            row.message = ("A importação foi interrompida e o arquivo enviado não está mais disponível no "
                           "servidor; envie o arquivo de novo.")
            return "interrupted"
        if row.attempts >= MAX_ATTEMPTS:
            row.status, row.finished_at = "interrupted", now_utc()
            row.message = (f"A importação parou {row.attempts} vezes sem terminar (o processo foi reiniciado "
                           "durante a leitura). O arquivo continua guardado: use “Executar de novo”.")
            return "interrupted"
        row.attempts += 1
        attempt = row.attempts
        # A new attempt starts from the top of the file: the totals and results start over too.
        row.read_bytes, row.created, row.updated, row.refused, row.items = 0, 0, 0, 0, []
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

    status, message = "done", None
    try:
        with services.session_factory() as s:
            import_customer_file(s, actor, path, branch_id, on_item=on_item, on_progress=on_progress)
    except DomainError as exc:
        status, message = "failed", f"{exc.message} (os lotes anteriores ao erro foram gravados)"
    except Exception as exc:  # noqa: BLE001 - the row must end, whatever went wrong; the log has the rest
        status, message = "failed", f"Falha inesperada na importação ({type(exc).__name__})."
    if status == "done" and attempt > 1:
        message = (f"Retomada automaticamente após uma interrupção (tentativa {attempt}); os clientes gravados "
                   "antes dela aparecem como Atualizado.")
    items = sorted(refused + others, key=lambda i: i["index"])
    with transaction(services.session_factory) as s:
        _link_created(s, branch_id, items)
        row = s.get(CustomerImport, import_id)
        row.status, row.message, row.finished_at = status, message, now_utc()
        row.read_bytes = row.size_bytes if status == "done" else read[0]
        row.items = items
        # Counted as reported, so a failed file still says what it wrote before the failure.
        row.created, row.updated, row.refused = counts["created"], counts["updated"], counts["refused"]
    # Only once the row has ended: a crash before this line leaves the file for the next attempt.
    path.unlink(missing_ok=True)
    return status


def _link_created(session: Session, branch_id: int, items: list[dict]) -> None:
    """The streaming import does not look up the ids of the customers it creates (one SELECT per
    batch the CLI does not need); the kept results get them here, so each opens its customer."""
    missing = [i for i in items if i["result"] == "created" and not i.get("party_id") and i.get("external_id")]
    for start in range(0, len(missing), 500):
        chunk = missing[start:start + 500]
        ids = dict(session.execute(select(Party.external_id, Party.id).where(
            Party.branch_id == branch_id, Party.external_id.in_([i["external_id"] for i in chunk]))).all())
        for item in chunk:
            item["party_id"] = ids.get(item["external_id"])


def run_in_background(services, actor: audit.Actor, import_id: int) -> threading.Thread:
    thread = threading.Thread(target=run, args=(services, actor, import_id), name=f"customer-import-{import_id}",
                              daemon=True)
    thread.start()
    return thread


def resume_stalled(services, *, grace: dt.timedelta = LEASE_TTL) -> list[str]:
    """The scheduler's sweep: every import still "running" whose importer stopped renewing its
    lease (its process died or was restarted) is run again here, or ends "Interrompida".

    Rows younger than `grace` are left to the upload's own thread, which takes the lease right
    after the row is committed; a row whose lease is alive is skipped (its importer is working)."""
    cutoff = now_utc() - grace
    with services.session_factory() as s:
        stalled = [(r.id, r.requested_by) for r in s.scalars(
            select(CustomerImport).where(CustomerImport.status == "running", CustomerImport.started_at < cutoff)
            .order_by(CustomerImport.id))]
    # The uploader stays the actor of the writes (rule 21's field history names the platform anyway).
    return [f"importação {import_id}: {run(services, audit.Actor(name=who), import_id)}"
            for import_id, who in stalled]


def run_again(session: Session, config: dict, import_id: int) -> CustomerImport:
    """Put an interrupted import back to "running" with its kept file (the caller commits, then
    starts it with `run_in_background`)."""
    row = get(session, import_id)
    if row.status != "interrupted":
        raise Conflict("Só uma importação interrompida pode ser executada de novo.")
    if not upload_path(config, import_id).exists():
        raise Conflict("O arquivo desta importação não está mais no servidor; envie-o de novo.")
    row.status, row.message, row.finished_at, row.attempts = "running", None, None, 0
    row.started_at = now_utc()
    row.read_bytes, row.created, row.updated, row.refused, row.items = 0, 0, 0, 0, []
    return row


def can_run_again(config: dict, row: CustomerImport) -> bool:
    return row.status == "interrupted" and upload_path(config, row.id).exists()


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
