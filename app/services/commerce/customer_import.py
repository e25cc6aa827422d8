"""Inbound customer registration from the commerce platform (docs/commerce-xml.md).

New customers become clients with status PEN (rule 19 (customer status)); existing ones, matched
within the branch by the platform's id and then by CNPJ/CPF, are updated, except the branch's
"do not overwrite" fields, which are kept silently and never reported as an error (the platform
expects none for them). A field absent from the XML is left unchanged; an empty one is cleared.
Customers are written in batches: two indexed SELECTs to match, one bulk INSERT, and bulk UPDATEs
of only the columns that changed (an unchanged customer costs no write), which is what makes large
loads fast.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import AuditEvent, Branch, Party
from app.models.credit import ADDRESS_FIELDS
from app.models.parties import CustomerStatus, Stage
from app.models.search_text import fold_words
from app.services.commerce.customer_xml import CustomerRecord, Refusal, iter_customers
from app.services.core import audit
from app.services.core.clock import now_utc
from app.services.core.documents import InvalidDocument, normalize_document
from app.services.core.errors import Conflict, NotFound
from app.services.credit.policy import policy_for

DEFAULT_BATCH = 1000
PLATFORM_ACTOR = "plataforma"
# How a person reads each field in the client's Histórico.
HISTORY_LABELS = {
    "external_id": "Id na plataforma", "document": "CPF/CNPJ", "document_kind": "Tipo de documento", "name": "Nome",
    "email": "E-mail", "state_registration": "Inscrição estadual", "phone": "Telefone", "mobile": "Celular",
    "street": "Logradouro", "number": "Número", "complement": "Complemento", "district": "Bairro",
    "city": "Cidade", "state": "UF", "zip": "CEP",
}
_parties = Party.__table__
_audit = AuditEvent.__table__
# Party columns the platform's XML may set (commerce_xml maps the elements to these names).
DATA_COLUMNS = ("external_id", "document", "document_kind", "name", "email", "state_registration", "phone",
                "mobile", *ADDRESS_FIELDS)
INDEXED_COLUMNS = frozenset({"external_id", "document", "name", "email"})
_UPDATE_BY_ID = update(_parties).where(_parties.c.id == bindparam("party_id"))


@dataclass(frozen=True, slots=True)
class ImportItem:
    index: int
    external_id: str | None
    result: str  # created | updated | refused
    party_id: int | None = None
    status: str | None = None
    code: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    refused: int = 0
    items: list[ImportItem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.refused


def protected_columns(protected_fields: list[str]) -> tuple[str, ...]:
    """The branch's "do not overwrite" keys as Party columns ("address" is the whole address)."""
    cols: list[str] = []
    for key in protected_fields or []:
        cols.extend(ADDRESS_FIELDS if key == "address" else (key,))
    return tuple(cols)


class _Importer:
    """Batches valid records and writes each batch with one lookup and two bulk statements."""

    def __init__(self, session: Session, branch_id: int, protected: tuple[str, ...], summary: ImportSummary,
                 *, collect: bool, on_item: Callable[[ImportItem], None] | None, batch_size: int,
                 commit_each_batch: bool):
        self.s, self.branch_id, self.protected = session, branch_id, protected
        self.summary, self.collect, self.on_item = summary, collect, on_item
        self.batch_size, self.commit_each_batch = batch_size, commit_each_batch
        self.batch: list[CustomerRecord] = []
        self.keys: set[tuple[str, str]] = set()
        self.names = ("id", "stage", "status", *DATA_COLUMNS)
        self.columns = [_parties.c[c] for c in self.names]
        self._bind_instant = self._bind_details = None
        self.history: list[dict] = []  # this batch's Histórico rows, one per changed field
        self.inserted_since_analyze, self.rows_at_analyze = 0, None

    def _run(self, batch: list[CustomerRecord]) -> None:
        while batch:
            batch = self._write(batch)
        if self.commit_each_batch:
            self.s.commit()
            self._keep_statistics()
        gc.collect(1)  # see _young_collections_only: the batch's cycles, if any, go now

    def _keep_statistics(self) -> None:
        """PostgreSQL plans each batch's lookups from the table's statistics, which autovacuum
        refreshes about once a minute. A go-live import into a nearly empty table kept being planned
        for an empty table (a sequential scan per lookup, every batch slower than the one before: 447
        customers/s over 100,000 against 9,800/s over 10,000; docs/benchmarks.md). The table is
        analysed again each time this import has added as many rows as it held at the last look, a
        few times per file. ANALYZE samples a bounded number of rows and does not block writers."""
        if self.s.get_bind().dialect.name != "postgresql":
            return  # SQLite plans these lookups by the unique indexes, without statistics
        if self.rows_at_analyze is None:
            self.rows_at_analyze = max(0, int(self.s.scalar(text(
                "SELECT reltuples FROM pg_class WHERE oid = 'parties'::regclass")) or 0))
        if self.inserted_since_analyze >= max(self.batch_size, self.rows_at_analyze):
            self.s.execute(text("ANALYZE parties"))
            self.s.commit()
            self.rows_at_analyze += self.inserted_since_analyze
            self.inserted_since_analyze = 0

    def emit(self, item: ImportItem) -> None:
        setattr(self.summary, item.result, getattr(self.summary, item.result) + 1)
        if self.collect:
            self.summary.items.append(item)
        if self.on_item:
            self.on_item(item)

    def refuse(self, refusal: Refusal) -> None:
        self.emit(ImportItem(refusal.index, refusal.external_id, "refused", code=refusal.code,
                             reason=refusal.message))

    def add(self, record: CustomerRecord) -> None:
        keys = {("id", record.external_id), ("doc", record.document)}
        if keys & self.keys:
            self.flush()  # the same customer twice in one batch: the later one updates the earlier
        self.batch.append(record)
        self.keys |= keys
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            batch, self.batch, self.keys = self.batch, [], set()
            self._run(batch)

    def _instant(self, value):
        """An instant as the driver takes it (UTCDateTime's conversion), computed once per batch."""
        if self._bind_instant is None:
            dialect = self.s.connection().dialect
            self._bind_instant = _parties.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect) or (
                lambda v: v)
        return self._bind_instant(value)

    def _audit_rows(self, at) -> list[dict]:
        """This batch's Histórico rows as the driver takes them: `at` (the batch's instant, already
        converted) and `details` through the column type's own serialiser."""
        if self._bind_details is None:
            dialect = self.s.connection().dialect
            self._bind_details = _audit.c.details.type.dialect_impl(dialect).bind_processor(dialect) or (
                lambda v: v)
        return [{**row, "at": at, "details": self._bind_details(row["details"])} for row in self.history]

    def _lookup(self, batch: list[CustomerRecord]) -> tuple[dict, dict]:
        """The branch's parties matching the batch by platform id, and by document.

        Each SELECT is served by its (branch_id, …) unique index (one SELECT with an OR of the two IN
        lists makes SQLite scan the whole branch). Documents are looked up only when needed: for a
        customer not found by its platform id, or found with another document (which may belong to
        someone else) — so a batch of updates costs one SELECT.
        """
        conn, c, names = self.s.connection(), _parties.c, self.names
        rows = conn.execute(select(*self.columns).where(
            c.branch_id == self.branch_id, c.external_id.in_([r.external_id for r in batch]))).all()
        # Plain dicts: built at C speed, and much faster to read than Row attributes.
        by_ext = {r["external_id"]: r for r in (dict(zip(names, row, strict=True)) for row in rows)}
        docs = [r.document for r in batch
                if r.external_id not in by_ext or by_ext[r.external_id]["document"] != r.document]
        by_doc = {m["document"]: m for m in by_ext.values()}
        if docs:
            rows = conn.execute(select(*self.columns).where(c.branch_id == self.branch_id, c.document.in_(docs)))
            by_doc.update((r["document"], r) for r in (dict(zip(names, row, strict=True)) for row in rows))
        return by_ext, by_doc

    def _write(self, batch: list[CustomerRecord]) -> list[CustomerRecord]:
        """Write one batch; returns the records that must wait for the next round (same party twice)."""
        by_ext, by_doc = self._lookup(batch)
        now = self._instant(now_utc())
        inserts, new_records, updates, updated, deferred, used = [], [], [], [], [], set()
        for rec in batch:
            match = by_ext.get(rec.external_id) or by_doc.get(rec.document)
            if match is not None and match["id"] in used:
                deferred.append(rec)
                continue
            owner = by_doc.get(rec.document)
            if match is not None and owner is not None and owner["id"] != match["id"]:
                self.emit(ImportItem(rec.index, rec.external_id, "refused", code="document_in_use",
                                     reason="O CNPJ/CPF informado pertence a outro cliente desta filial."))
                continue
            values = {"external_id": rec.external_id, "document": rec.document,
                      "document_kind": "CPF" if len(rec.document) == 11 else "CNPJ", **rec.values}
            if match is None:
                inserts.append({"branch_id": self.branch_id, "stage": Stage.CLIENT.value,
                                "status": CustomerStatus.PEN.value, "became_client_at": now,
                                "created_at": now, "updated_at": now,
                                "search_name": fold_words(values.get("name")), **values})
                new_records.append(rec)
                continue
            used.add(match["id"])
            for col in self.protected:
                # Fields the seller keeps are skipped silently, not refused (filled only when still empty).
                if col in values and match[col] not in (None, ""):
                    del values[col]
            # An unchanged customer is not written at all; a changed one gets its plain columns, and
            # its indexed ones only when they changed (no needless index maintenance). Few distinct
            # column sets per batch, so few statements.
            diff = {k: [old, v] for k, v in values.items() if (old := match[k]) != v}  # [before, after]
            changes = {**{k: v for k, v in values.items() if k not in INDEXED_COLUMNS},
                       **{k: pair[1] for k, pair in diff.items()}} if diff else {}
            if "name" in changes:
                changes["search_name"] = fold_words(changes["name"])  # Core update: no ORM validator here
            if match["stage"] != Stage.CLIENT.value:
                changes.update(stage=Stage.CLIENT.value, became_client_at=now)
            if changes:
                updates.append({"party_id": match["id"], "updated_at": now, **changes})
                self.history.extend(field_history(match, diff, self.branch_id))
            updated.append((rec, match))
        try:
            if inserts:
                _executemany(self.s, insert(_parties), inserts)
                self.inserted_since_analyze += len(inserts)
            if updates:
                _executemany(self.s, _UPDATE_BY_ID, updates)
            if self.history:
                # The driver's executemany with the values converted once here, as for the parties:
                # SQLAlchemy's per-row defaults and JSON processing were a fifth of the update pass.
                _executemany(self.s, insert(_audit), self._audit_rows(now))
                self.history = []
        except IntegrityError as exc:
            raise Conflict("Outro processo alterou os mesmos clientes ao mesmo tempo; reenvie o lote.",
                           code="concurrent_import") from exc
        if new_records and self.collect:
            # One SELECT for the new ids: far cheaper than INSERT … RETURNING over thousands of rows.
            ids = dict(self.s.execute(select(Party.external_id, Party.id).where(
                Party.branch_id == self.branch_id, Party.external_id.in_([r.external_id for r in new_records]))).all())
        else:
            ids = {}
        for rec in new_records:
            self.emit(ImportItem(rec.index, rec.external_id, "created", ids.get(rec.external_id),
                                 CustomerStatus.PEN.value))
        for rec, match in updated:
            self.emit(ImportItem(rec.index, rec.external_id, "updated", match["id"], match["status"]))
        return deferred


def field_history(match: dict, diff: dict[str, list], branch_id: int) -> list[dict]:
    """The Histórico of a customer the platform changed: one audit event per customer update,
    whose `details["changes"]` holds every changed field as [before, after] (the format of
    `audit.diff`); the party's page shows each field as its own line, by "plataforma".

    `diff` maps each column the import found different to [before, after]. One row per customer,
    not per field: a full resend of 100k customers would otherwise write a million audit rows and
    make the update pass several times slower (benchmarks/import_customers.py)."""
    # Text columns only: a change between None and "" is no change; the document's kind follows
    # the document.
    changes = {column: pair for column, pair in diff.items()
               if column != "document_kind" and pair[0] != pair[1] and (pair[0] or pair[1])}
    if not changes:
        return []
    if "document" in changes:  # the privacy rule: the Histórico is read by every role
        changes["document"] = [_masked(v) for v in changes["document"]]
    return [{"actor": PLATFORM_ACTOR, "action": "commerce.customer_update", "entity_type": "party",
             "entity_id": str(match["id"]), "branch_id": branch_id, "document": match.get("document"),
             "summary": _history_summary(tuple(changes)), "details": {"changes": changes}}]


@lru_cache(maxsize=256)
def _history_summary(columns: tuple[str, ...]) -> str:
    # A file changes the same few sets of fields again and again: each summary is built once.
    return f"Atualizado pela plataforma: {', '.join(HISTORY_LABELS.get(c, c) for c in columns)}"[:300]


@contextmanager
def _young_collections_only():
    """Pause Python's automatic garbage collection for a bulk import; `_Importer._run` collects the
    young generations after each batch instead.

    A batch allocates tens of thousands of short-lived dicts and lists, and the automatic collector
    then keeps walking every object of the process (the app's modules, SQLAlchemy's metadata):
    a quarter of the update pass's CPU (docs/benchmarks.md). Process-wide, so a web worker's
    requests meanwhile get the same per-batch collections; whoever paused it first resumes it."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _masked(document: str | None) -> str | None:
    try:
        return normalize_document(document).masked if document else document
    except InvalidDocument:
        return "***"


def _executemany(session: Session, stmt, rows: list[dict]) -> None:
    """Bulk write through the driver's executemany, the statement compiled once per set of keys.

    Values go to the driver as they are (text, and instants converted once per batch by
    `_Importer._instant`), skipping SQLAlchemy's per-row parameter processing: on a 100k-customer
    load that processing costs more than the database itself.
    """
    conn = session.connection()
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for keys, group in groups.items():
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(keys))
        if compiled.positional:
            order = compiled.positiontup
            get = itemgetter(*order) if len(order) > 1 else (lambda row, key=order[0]: (row[key],))
            params = list(map(get, group))  # itemgetter builds each row's tuple at C speed
        else:
            params = group
        conn.exec_driver_sql(str(compiled), params)


def import_customers(session: Session, actor: audit.Actor, source, branch_id: int, *,
                     batch_size: int = DEFAULT_BATCH, max_bytes: int | None = None,
                     collect_items: bool = True, on_item: Callable[[ImportItem], None] | None = None,
                     on_progress: Callable[[int], None] | None = None,
                     commit_each_batch: bool = False) -> ImportSummary:
    """Read customer XML from a binary stream and create/update the branch's clients.

    `collect_items=False` with `on_item` keeps memory flat for files of any size (the CLI).
    With `commit_each_batch`, each batch is committed as it is written (a failure later in the
    file keeps the batches already written); otherwise the caller commits once.
    """
    items = iter_customers(source, max_bytes=max_bytes, on_progress=on_progress)
    return import_items(session, actor, items, branch_id, batch_size=batch_size, collect_items=collect_items,
                        on_item=on_item, commit_each_batch=commit_each_batch)


def import_items(session: Session, actor: audit.Actor, items: Iterable[CustomerRecord | Refusal], branch_id: int,
                 *, batch_size: int = DEFAULT_BATCH, collect_items: bool = True,
                 on_item: Callable[[ImportItem], None] | None = None,
                 commit_each_batch: bool = False) -> ImportSummary:
    """Write parsed customers (see `import_customers`); `items` may come from another process."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("Filial não encontrada.")
    policy = policy_for(session, branch_id)
    summary = ImportSummary()
    importer = _Importer(session, branch_id, protected_columns(policy.protected_fields), summary,
                         collect=collect_items, on_item=on_item, batch_size=batch_size,
                         commit_each_batch=commit_each_batch)
    with _young_collections_only():
        for item in items:
            if isinstance(item, Refusal):
                importer.refuse(item)
            else:
                importer.add(item)
        importer.flush()
    summary.items.sort(key=lambda i: i.index)  # a refusal is reported before its batch is written
    audit.record(session, actor, "commerce.customers_import", "branch", branch_id, branch_id=branch_id,
                 summary=(f"Clientes da plataforma: {summary.created} criados, "
                          f"{summary.updated} atualizados, {summary.refused} recusados"),
                 details={"created": summary.created, "updated": summary.updated, "refused": summary.refused})
    if commit_each_batch:
        session.commit()
    return summary
