"""Times the CRM list queries with 100k clients: first page, a deep page, name/document/e-mail search.

    .venv/bin/python benchmarks/crm_list.py                      # SQLite (temporary file)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/crm_list.py
                                                                 # SQLite, then PostgreSQL (private schema)

Uses the same service the pages and the API call (`app.services.crm.search.list_parties`). Each
query runs 30 times; the median and the 95th percentile are reported in milliseconds, with whether
the plan scans the whole table. The last line is JSON.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.demo.crm import make_cnpj, make_cpf  # noqa: E402
from app.models import Base, Branch, Party  # noqa: E402
from app.models.base import utcnow  # noqa: E402
from app.services.crm.search import PartyFilter, encode_cursor, list_parties  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
RUNS = 30
FIRST = ["Maria", "José", "Ana", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz",
         "Marcos", "Luís", "Gabriel", "Rafael", "Daniel", "Márcia", "Juliana", "Patrícia", "Aline", "Sandra",
         "Camila", "Amanda", "Bruna", "Fernanda", "Letícia", "Beatriz", "Roberto", "Eduardo", "Felipe"]
LAST = ["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
        "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa"]
COMPANY = ["Mercado", "Padaria", "Farmácia", "Oficina", "Distribuidora", "Comercial", "Loja", "Supermercado"]


def build(engine) -> dict:
    """Two branches and ROWS clients (1 in 4 a company), inserted in batches."""
    Base.metadata.create_all(engine)
    rng = random.Random(42)
    with Session(engine) as s:
        branches = [Branch(name="Matriz", cnpj="11222333000181"), Branch(name="Filial", cnpj="12ABC34501DE35")]
        s.add_all(branches)
        s.commit()
        branch_ids = [b.id for b in branches]
    started = time.perf_counter()
    batch: list[dict] = []
    sample: dict = {}
    now = utcnow()
    with engine.begin() as conn:
        for i in range(ROWS):
            company = i % 4 == 0
            if company:
                name = f"{rng.choice(COMPANY)} {rng.choice(LAST)} {rng.choice(FIRST)} Ltda"
                document, kind = make_cnpj(i + 1, order=1 + i % 9), "CNPJ"
            else:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
                document, kind = make_cpf(i + 1), "CPF"
            email = f"{name.split()[0].lower()}.{i}@exemplo{i % 50}.com.br"
            batch.append({"branch_id": branch_ids[i % 2], "stage": "client", "name": name, "email": email,
                          "document": document, "document_kind": kind, "status": "PEN", "city": "São Paulo",
                          "state": "SP", "created_at": now, "updated_at": now})
            if i == ROWS // 2:
                sample = {"document": document, "email": email, "name": name}
            if len(batch) == 5000:
                conn.execute(insert(Party), batch)
                batch = []
        if batch:
            conn.execute(insert(Party), batch)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE parties"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return {"insert_s": round(time.perf_counter() - started, 1), "sample": sample, "branch_ids": branch_ids}


def _timed(fn) -> dict:
    times = []
    result = None
    for _ in range(RUNS):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(RUNS * 0.95) - 1], 2),
            "rows": len(result.items)}


def _full_scan(session: Session, flt: PartyFilter, cursor: str | None) -> bool:
    """True when the plan reads the whole parties table (no index for the filter or the order)."""
    captured: list[str] = []
    stmt_holder: dict = {}

    from sqlalchemy import event

    def _capture(conn, cursor_, statement, parameters, context, executemany):
        stmt_holder["sql"], stmt_holder["params"] = statement, parameters

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", _capture)
    try:
        list_parties(session, flt, cursor=cursor)
    finally:
        event.remove(engine, "before_cursor_execute", _capture)
    sql, params = stmt_holder["sql"], stmt_holder["params"]
    raw = session.connection().connection.driver_connection
    cur = raw.cursor()
    if engine.dialect.name == "postgresql":
        cur.execute("EXPLAIN " + sql, params)
        captured = [row[0] for row in cur.fetchall()]
        return any("Seq Scan on parties" in line for line in captured)
    cur.execute("EXPLAIN QUERY PLAN " + sql, params)
    captured = [row[-1] for row in cur.fetchall()]
    return any(line.startswith("SCAN parties") for line in captured)


def measure(engine, info: dict) -> dict:
    sample = info["sample"]
    with Session(engine) as s:
        deep_recent = s.scalar(select(Party).where(Party.stage == "client").order_by(Party.id.desc())
                               .offset(ROWS - 100).limit(1))
        deep_name = s.scalar(select(Party).where(Party.stage == "client").order_by(Party.name, Party.id)
                             .offset(ROWS - 100).limit(1))
        cases = {
            "first_page": (PartyFilter(stage="client"), None),
            "deep_page_recent": (PartyFilter(stage="client"), encode_cursor(deep_recent, "recent")),
            "first_page_by_name": (PartyFilter(stage="client", sort="name"), None),
            "deep_page_by_name": (PartyFilter(stage="client", sort="name"), encode_cursor(deep_name, "name")),
            "branch_filter": (PartyFilter(stage="client", branch_id=info["branch_ids"][1]), None),
            "search_name_prefix": (PartyFilter(stage="client", q=" ".join(sample["name"].split()[:2]).lower()), None),
            "search_name_prefix_short": (PartyFilter(stage="client", q="ma"), None),
            # By a later word of the name, accents folded; and the worst case, a word nobody has
            # (the keyset walk reads every client without finding a page).
            "search_name_any_word": (PartyFilter(stage="client", q=sample["name"].split()[-1]), None),
            "search_name_two_words": (PartyFilter(stage="client", q=" ".join(sample["name"].split()[1:3])), None),
            "search_name_no_match": (PartyFilter(stage="client", q="xyzw"), None),
            "search_document_full": (PartyFilter(stage="client", q=sample["document"]), None),
            "search_document_prefix": (PartyFilter(stage="client", q=sample["document"][:6]), None),
            "search_email_prefix": (PartyFilter(stage="client", q=sample["email"].split("@")[0] + "@"), None),
        }
        results = {}
        for name, (flt, cursor) in cases.items():
            results[name] = _timed(lambda flt=flt, cursor=cursor: list_parties(s, flt, cursor=cursor))
            results[name]["full_scan"] = _full_scan(s, flt, cursor)
    return results


def run_backend(label: str, url: str, setup=None, teardown=None) -> dict:
    if setup:
        url = setup(url)
    engine = make_engine(url)
    try:
        info = build(engine)
        return {"backend": label, "rows": ROWS, "insert_s": info["insert_s"], "queries": measure(engine, info)}
    finally:
        engine.dispose()
        if teardown:
            teardown()


def main() -> None:
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        report.append(run_backend("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
    pg_url = os.environ.get("DATABASE_URL", "")
    if pg_url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(pg_url)

        def setup(url: str) -> str:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"

        def teardown() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        report.append(run_backend("postgresql", pg_url, setup, teardown))
    for backend in report:
        print(f"# {backend['backend']}: {backend['rows']} clients inserted in {backend['insert_s']} s")
        for name, r in backend["queries"].items():
            scan = " FULL SCAN" if r["full_scan"] else ""
            print(f"  {name:28s} median {r['median_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms  rows {r['rows']}{scan}")
    print(json.dumps({"benchmark": "crm_list", "results": report}, ensure_ascii=False))


if __name__ == "__main__":
    main()
