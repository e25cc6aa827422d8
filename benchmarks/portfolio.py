"""A synthetic ISP portfolio for the collections benchmark, loaded FAST.

Two branches share one bureau integration (automatic mode on, restriction codes PF 12 / PJ 22):

- the MAIN branch (CNPJ 11.222.333/0001-81, SP): `clients` clients and `titles` titles with a realistic
  mix — monthly bills, most paid or not yet due; late payers (< 60 days), defaulters (60-210 days),
  churned defaulters (7 months to 4.7 years), prescribed debts (> 5 years), renegotiated and cancelled
  titles, partial payments (some below the branch minimum of R$ 10,00), disputed and court-blocked
  titles, clients with an incomplete address or no document, and live / removed negativations. The
  selection benchmark runs on this branch.
- the SEND branch: `send_clients` clients, each with ONE open title 90 days overdue, so the send
  benchmark runs the real routine (`collections.run_branch`) on a branch where exactly that many
  clients are eligible.

Loading: `Base.metadata.create_all`, the secondary indexes of the big tables dropped, rows inserted with
Core `insert()` executemany in chunks of 10,000 (SQLite: the `Money` type turns Decimal into cents) or
with COPY (PostgreSQL, psycopg), then the indexes created again and ANALYZE. Ids are explicit, so
PostgreSQL sequences are moved past them at the end.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Index, Table, text
from sqlalchemy.engine import Connection, Engine

from app.models import Base
from app.models.collections import MIN_DAYS_TO_EXECUTE
from app.models.search_text import fold_words
from app.services.core.crypto import SecretBox

MAIN_CNPJ = "11222333000181"
CHUNK = 10_000
DAYS_TO_EXECUTE = MIN_DAYS_TO_EXECUTE  # 60
SEND_DAYS_OVERDUE = 90
MIN_AMOUNT = Decimal("10.00")  # the main branch's minimum (rule 8): small partial balances are skipped
RATE_LIMIT_PER_S = 100
MAX_CONCURRENCY = 16  # 50 ms bureau latency x 100 req/s needs ~5 in flight, plus our own work per send
# Tables whose secondary indexes are built after the load (much faster than maintaining them row by row).
DEFERRED_INDEX_TABLES = ("parties", "titles", "negativations", "negativation_titles")

PARTY_COLS = ("id", "branch_id", "stage", "name", "email", "document", "document_kind", "phone", "mobile",
              "street", "number", "complement", "district", "city", "state", "zip", "status",
              "became_client_at", "created_at", "updated_at", "search_name")
TITLE_COLS = ("id", "branch_id", "party_id", "number", "description", "issue_date", "due_date", "amount",
              "amount_received", "open_amount", "status", "disputed", "dispute_reason", "court_blocked",
              "origin", "paid_on", "cancelled_at", "created_at", "updated_at")

PF_PLANS = tuple(Decimal(v) for v in ("79.90", "99.90", "119.90", "149.90", "199.90"))
PJ_PLANS = tuple(Decimal(v) for v in ("299.90", "499.90", "899.90"))
FIRST = ("Ana", "Bruno", "Carla", "Diego", "Eduarda", "Felipe", "Gabriela", "Henrique", "Isabela", "João",
         "Larissa", "Marcos", "Natália", "Otávio", "Paula", "Rafael", "Sabrina", "Thiago", "Vanessa", "Wagner")
LAST = ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
        "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa")
STREETS = ("Rua das Flores", "Avenida Brasil", "Rua XV de Novembro", "Rua Sete de Setembro", "Avenida Paulista",
           "Rua Tiradentes", "Rua São José", "Avenida Independência", "Rua Dom Pedro II", "Rua das Palmeiras")
DISTRICTS = ("Centro", "Jardim América", "Vila Nova", "Santa Cecília", "Boa Vista", "Jardim Paulista",
             "Vila Industrial", "Parque das Nações")
CITIES = (("São Paulo", "SP", "01"), ("Campinas", "SP", "13"), ("Santos", "SP", "11"),
          ("Sorocaba", "SP", "18"), ("Ribeirão Preto", "SP", "14"), ("São José dos Campos", "SP", "12"))
# Client profiles and their shares: they decide the titles' statuses and due dates.
PROFILES = (("good", 0.78), ("late", 0.08), ("defaulter", 0.07), ("churned", 0.04), ("prescribed", 0.015),
            ("renegotiated", 0.01), ("cancelled", 0.005))


# --------------------------------------------------------------------------- documents


def cpf(n: int) -> str:
    """The n-th synthetic valid CPF (distinct for distinct n < 10**9), check digits computed."""
    base = f"{(n * 7919 + 100_000_001) % 1_000_000_000:09d}"
    if len(set(base)) == 1:  # all-equal digits are never a valid CPF
        base = base[:-1] + str((int(base[-1]) + 1) % 10)
    digits = [int(c) for c in base]
    for start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(start, 1, -1), strict=False))
        digits.append(total * 10 % 11 % 10)
    return "".join(map(str, digits))


def cnpj(base12: str) -> str:
    """A numeric CNPJ with its two check digits (weights 5..2,9..2 then 6..2,9..2)."""
    digits = [int(c) for c in base12]
    for weights in ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)):
        r = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if r < 2 else 11 - r)
    return "".join(map(str, digits))


def client_cnpj(n: int) -> str:
    return cnpj(f"{(n * 104_729 + 10_000_000) % 100_000_000:08d}0001")


SEND_CNPJ = cnpj("112223330002")  # a second establishment of the same company


# --------------------------------------------------------------------------- result


@dataclass
class Portfolio:
    branch_id: int
    send_branch_id: int
    integration_id: int
    today: dt.date
    clients: int = 0
    titles: int = 0
    send_clients: int = 0
    send_titles: int = 0
    negativations: int = 0
    profiles: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- loading helpers


def _chunks(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        yield batch


def load_rows(conn: Connection, table: Table, cols: tuple[str, ...], rows: Iterable[tuple],
              progress: Callable[[int], None] | None = None) -> int:
    """Insert rows (tuples in `cols` order): COPY on PostgreSQL, Core executemany elsewhere."""
    n = 0
    if conn.dialect.name == "postgresql":
        # Values are already what psycopg adapts natively (Decimal, date, aware datetime, bool, str).
        names = ", ".join(f'"{c}"' for c in cols)
        if not conn.in_transaction():
            conn.begin()  # so that conn.commit() commits the COPY
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for batch in _chunks(rows, CHUNK):
                for row in batch:
                    copy.write_row(row)
                n += len(batch)
                if progress:
                    progress(n)
        return n
    stmt = table.insert()
    for batch in _chunks(rows, CHUNK):
        # Through the Core table, so Money binds Decimal as integer cents and UTCDateTime drops the zone.
        conn.execute(stmt, [dict(zip(cols, row, strict=True)) for row in batch])
        n += len(batch)
        if progress:
            progress(n)
    return n


def create_schema(engine: Engine) -> list[Index]:
    """create_all, then drop the secondary indexes of the big tables; returns them to build after the load."""
    Base.metadata.create_all(engine)
    deferred = [idx for name in DEFERRED_INDEX_TABLES for idx in Base.metadata.tables[name].indexes]
    with engine.begin() as conn:
        for idx in deferred:
            idx.drop(conn)
    return deferred


def _fix_sequences(conn: Connection, tables: Iterable[str]) -> None:
    for name in tables:
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                          f"(SELECT coalesce(max(id), 0) + 1 FROM \"{name}\"), false)"))


def analyze(engine: Engine) -> None:
    """Planner statistics for the benchmark's tables only (a bare ANALYZE on PostgreSQL would visit every
    schema of the database)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE " + ", ".join(f'"{t}"' for t in Base.metadata.tables)))
        else:
            conn.exec_driver_sql("ANALYZE")
        conn.commit()


# --------------------------------------------------------------------------- generator


class _Generator:
    """Deterministic rows (seeded); titles are streamed, never all in memory."""

    def __init__(self, today: dt.date, seed: int, now: dt.datetime):
        self.rng = random.Random(seed)
        self.today = today
        self.now = now
        self.party_id = 0
        self.title_id = 0
        self.neg_id = 0
        self.nt_id = 0
        self.negativations: list[dict] = []
        self.neg_titles: list[dict] = []
        self.clients: list[tuple[int, str, int, Decimal, str | None, str | None]] = []
        self.profiles: dict[str, int] = {}
        self._profile_cut = list(itertools.accumulate(share for _, share in PROFILES))

    # parties ---------------------------------------------------------------

    def party(self, branch_id: int, n: int, *, profile: str, n_titles: int, realistic: bool = True) -> tuple:
        """realistic=False: always a CPF and a full address (the send branch's clients are all eligible)."""
        rng = self.rng
        self.party_id += 1
        pid = self.party_id
        roll = rng.random()
        if not realistic:
            kind: str | None = "CPF"
            document: str | None = cpf(n)
        elif roll < 0.003:
            kind = document = None  # imported without a document: skipped as invalid_document
        elif roll < 0.053:
            kind, document = "CNPJ", client_cnpj(n)
        else:
            kind, document = "CPF", cpf(n)
        if kind == "CNPJ":
            name = f"{rng.choice(LAST)} {rng.choice(LAST)} Comércio Ltda"
            plan = rng.choice(PJ_PLANS)
        else:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
            plan = rng.choice(PF_PLANS)
        city, state, zip_prefix = rng.choice(CITIES)
        street: str | None = rng.choice(STREETS)
        number: str | None = str(rng.randint(1, 4999))
        district: str | None = rng.choice(DISTRICTS)
        zip_code: str | None = f"{zip_prefix}{rng.randint(0, 999_999):06d}"
        if realistic and rng.random() < 0.02:  # rule 5: the bureau cannot post the letter
            gap = rng.randrange(4)
            if gap == 0:
                number = ""
            elif gap == 1:
                zip_code = None
            elif gap == 2:
                street = "   "
            else:
                district = None
        self.clients.append((pid, profile, n_titles, plan, kind, document))
        self.profiles[profile] = self.profiles.get(profile, 0) + 1
        return (pid, branch_id, "client", name, f"cliente{pid}@example.com.br", document, kind,
                f"11{rng.randint(30_000_000, 39_999_999)}", f"119{rng.randint(70_000_000, 99_999_999)}",
                street, number, "Apto 12" if rng.random() < 0.2 else None, district, city, state, zip_code, "PEN",
                self.now, self.now, self.now, fold_words(name))

    def pick_profile(self) -> str:
        r = self.rng.random()
        for (name, _), cut in zip(PROFILES, self._profile_cut, strict=True):
            if r < cut:
                return name
        return PROFILES[0][0]

    # titles ----------------------------------------------------------------

    def _title(self, branch_id: int, party_id: int, prefix: str, due: dt.date, amount: Decimal, status: str, *,
               received: Decimal = Decimal("0.00"), disputed: bool = False, court: bool = False,
               paid_on: dt.date | None = None, cancelled: bool = False) -> tuple:
        self.title_id += 1
        tid = self.title_id
        open_amount = Decimal("0.00") if status == "paid" else amount - received
        return (tid, branch_id, party_id, f"{prefix}-{tid:08d}", "Mensalidade internet banda larga",
                due - dt.timedelta(days=10), due, amount, received, open_amount, status, disputed,
                "Cliente contesta a cobrança (Procon)" if disputed else None, court, "import", paid_on,
                self.now if cancelled else None, self.now, self.now)

    def _overdue_title(self, branch_id: int, party_id: int, due: dt.date, amount: Decimal) -> tuple:
        """An unpaid past bill: sometimes partially paid, disputed or blocked by a court order."""
        rng = self.rng
        received = Decimal("0.00")
        status = "open"
        if rng.random() < 0.10:  # partial payment; a third leave less than the branch minimum
            status = "partial"
            if rng.random() < 0.33:
                received = amount - Decimal(rng.randint(100, 999)) / 100
            else:
                received = (amount * Decimal(rng.randint(10, 80)) / 100).quantize(Decimal("0.01"))
        roll = rng.random()
        return self._title(branch_id, party_id, "F1", due, amount, status, received=received,
                           disputed=roll < 0.03, court=0.03 <= roll < 0.035)

    def _paid(self, branch_id: int, party_id: int, due: dt.date, amount: Decimal) -> tuple:
        if self.rng.random() < 0.01:  # billing error, cancelled
            return self._title(branch_id, party_id, "F1", due, amount, "cancelled", cancelled=True)
        paid_on = min(self.today, due + dt.timedelta(days=self.rng.randint(-5, 12)))
        return self._title(branch_id, party_id, "F1", due, amount, "paid", received=amount, paid_on=paid_on)

    def main_titles(self, branch_id: int, integration_id: int) -> Iterator[tuple]:
        rng, today = self.rng, self.today
        for pid, profile, k, plan, kind, document in self.clients:
            if k == 0 or profile == "send":
                continue
            open_ids: list[tuple] = []
            if profile in ("churned", "prescribed", "cancelled"):
                back = {"churned": (200, 1700), "prescribed": (1830, 2500), "cancelled": (60, 400)}[profile]
                newest = today - dt.timedelta(days=rng.randint(*back))
                unpaid = rng.randint(1, 3)
            else:
                newest = today + dt.timedelta(days=rng.randint(1, 28))  # next bill, not yet due
                if profile == "late":
                    unpaid = rng.randint(1, 2)  # less than 60 days overdue
                elif profile == "defaulter":
                    unpaid = rng.randint(2, 7)  # up to ~210 days overdue
                else:
                    unpaid = 2 if profile == "renegotiated" else 0
            for j in range(k):
                due = newest - dt.timedelta(days=30 * j)
                amount = plan
                if profile not in ("churned", "prescribed", "cancelled") and j == 0:
                    row = self._title(branch_id, pid, "F1", due, amount, "open")
                elif (profile in ("churned", "prescribed", "cancelled") and j < unpaid) or (0 < j <= unpaid):
                    if profile == "cancelled":
                        row = self._title(branch_id, pid, "F1", due, amount, "cancelled", cancelled=True)
                    elif profile == "renegotiated":
                        row = self._title(branch_id, pid, "F1", due, amount, "renegotiated")
                    else:
                        row = self._overdue_title(branch_id, pid, due, amount)
                        if not row[11] and not row[13]:
                            open_ids.append(row)
                else:
                    row = self._paid(branch_id, pid, due, amount)
                    if j == 3 and profile == "good" and rng.random() < 0.01:
                        self._negativation(pid, branch_id, integration_id, kind, document, [row], live=False)
                yield row
            if profile == "churned" and open_ids and kind and rng.random() < 0.3:
                self._negativation(pid, branch_id, integration_id, kind, document, open_ids, live=True)

    def _negativation(self, party_id: int, branch_id: int, integration_id: int, kind: str | None,
                      document: str | None, rows: list[tuple], *, live: bool) -> None:
        if not kind or not document:
            return
        self.neg_id += 1
        total = sum((r[9] if live else r[7] for r in rows), Decimal("0.00"))
        sent = self.now - dt.timedelta(days=self.rng.randint(20, 400))
        self.negativations.append({
            "id": self.neg_id, "party_id": party_id, "branch_id": branch_id, "integration_id": integration_id,
            "restriction_code": "12" if kind == "CPF" else "22", "document": document, "document_type": kind,
            "idempotency_key": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "protocol": f"CNM-{self.neg_id:09d}", "status": "active" if live else "removed",
            "notice_until": (sent + dt.timedelta(days=10)).date(), "activated_at": sent + dt.timedelta(days=10),
            "sent_at": sent, "removal_reason": None if live else "payment",
            "removed_at": None if live else sent + dt.timedelta(days=40),
            "requested_by": "rotina", "origin": "routine",
            "payload": {"titles": [{"title_id": r[0], "number": r[3]} for r in rows], "synthetic": True},
            "total_amount": total, "amount_received": Decimal("0.00") if live else total, "attempts": 1,
            "removal_attempts": 0 if live else 1, "created_at": sent, "updated_at": sent,
        })
        for r in rows:
            self.nt_id += 1
            self.neg_titles.append({"id": self.nt_id, "negativation_id": self.neg_id, "title_id": r[0],
                                    "number": r[3], "due_date": r[6], "amount_sent": r[9] if live else r[7],
                                    "live": live})

    def send_titles(self, branch_id: int, party_ids: list[int]) -> Iterator[tuple]:
        due = self.today - dt.timedelta(days=SEND_DAYS_OVERDUE)
        for pid in party_ids:
            yield self._title(branch_id, pid, "F2", due, Decimal("99.90"), "open")


# --------------------------------------------------------------------------- build


def build(engine: Engine, box: SecretBox, *, clients: int, titles: int, send_clients: int, today: dt.date,
          seed: int = 5, log: Callable[[str], None] = print) -> Portfolio:
    """Create the schema in an EMPTY database and load the portfolio; returns ids and counts."""
    md = Base.metadata.tables
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    deferred = create_schema(engine)
    pf = Portfolio(branch_id=1, send_branch_id=2, integration_id=1, today=today)
    gen = _Generator(today, seed, now)
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if not pg:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MiB for this connection's load
        ts = {"created_at": now, "updated_at": now}
        conn.execute(md["bureau_integrations"].insert(), [{
            "id": 1, "name": "Crédito na Medida (benchmark)", "provider": "credito_na_medida",
            "environment": "homologacao", "base_url": "http://127.0.0.1:9", "client_id": "demo-client",
            "client_secret_encrypted": box.encrypt("demo-secret"), "auto_include_remove": True,
            "restriction_code_pf": "12", "restriction_code_pj": "22", **ts}])
        address = {"street": "Avenida Paulista", "number": "1000", "district": "Bela Vista", "city": "São Paulo",
                   "state": "SP", "zip": "01310100"}
        conn.execute(md["branches"].insert(), [
            {"id": 1, "name": "Provedor Benchmark — Matriz", "cnpj": MAIN_CNPJ, "active": True,
             "bureau_integration_id": 1, **address, **ts},
            {"id": 2, "name": "Provedor Benchmark — Envio", "cnpj": SEND_CNPJ, "active": True,
             "bureau_integration_id": 1, **address, **ts}])
        conn.execute(md["branch_policies"].insert(), [
            {"branch_id": 1, "min_amount": MIN_AMOUNT, "prescription_years": 5, "notice_days": 10, **ts}])
        policy = {"enabled": True, "handle_by_title": True, "days_to_execute": DAYS_TO_EXECUTE, "grouping": "client",
                  "run_time": "06:00", "max_concurrency": MAX_CONCURRENCY, "rate_limit_per_s": RATE_LIMIT_PER_S, **ts}
        conn.execute(md["collection_policies"].insert(), [{"branch_id": 1, **policy}, {"branch_id": 2, **policy}])
        conn.commit()

        # Parties: main branch, then the send branch (documents distinct across both).
        per, extra = divmod(titles, clients) if clients else (0, 0)
        parties = [gen.party(1, i, profile=gen.pick_profile(), n_titles=per + (1 if i < extra else 0))
                   for i in range(clients)]
        send_parties = [gen.party(2, clients + i, profile="send", n_titles=1, realistic=False)
                        for i in range(send_clients)]
        t0 = time.perf_counter()
        load_rows(conn, md["parties"], PARTY_COLS, parties + send_parties)
        conn.commit()
        pf.timings["load_parties_s"] = time.perf_counter() - t0
        log(f"  parties: {len(parties) + len(send_parties):,} in {pf.timings['load_parties_s']:.1f}s")
        send_ids = [p[0] for p in send_parties]
        del parties, send_parties

        t0 = time.perf_counter()
        step = max(CHUNK, titles // 10)
        marks = {"next": step}

        def progress(n: int) -> None:
            if n >= marks["next"]:
                marks["next"] += step
                log(f"  titles: {n:,}/{titles:,} ({time.perf_counter() - t0:.0f}s)")

        pf.titles = load_rows(conn, md["titles"], TITLE_COLS, gen.main_titles(1, 1), progress)
        pf.send_titles = load_rows(conn, md["titles"], TITLE_COLS, gen.send_titles(2, send_ids))
        conn.commit()
        pf.timings["load_titles_s"] = time.perf_counter() - t0
        log(f"  titles: {pf.titles + pf.send_titles:,} in {pf.timings['load_titles_s']:.1f}s")

        if gen.negativations:
            conn.execute(md["negativations"].insert(), gen.negativations)
            conn.execute(md["negativation_titles"].insert(), gen.neg_titles)
        conn.commit()
        pf.negativations = len(gen.negativations)

        t0 = time.perf_counter()
        for idx in deferred:
            idx.create(conn)
        if pg:
            _fix_sequences(conn, ("bureau_integrations", "branches", "parties", "titles", "negativations",
                                  "negativation_titles"))
        conn.commit()
        pf.timings["indexes_s"] = time.perf_counter() - t0
        log(f"  {len(deferred)} indexes in {pf.timings['indexes_s']:.1f}s")
    t0 = time.perf_counter()
    analyze(engine)
    pf.timings["analyze_s"] = time.perf_counter() - t0
    pf.timings["build_s"] = time.perf_counter() - started
    pf.clients, pf.send_clients, pf.profiles = clients, send_clients, dict(gen.profiles)
    return pf
