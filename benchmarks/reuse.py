"""`benchmarks/collections.py --reuse`: build the portfolio once, run every time on a fresh copy of it.

A 1M-title portfolio takes minutes to build, and the send phase changes it (2,000 negativations): a
second run on the same database would find nothing left to send. So the first run builds a template
(a PostgreSQL database, or a SQLite file under benchmarks/out/) named after the portfolio's parameters,
and every run copies it (PostgreSQL: CREATE DATABASE ... TEMPLATE, a file copy; SQLite: a file copy)
and drops its copy at the end. The template is built under a temporary name and renamed when complete,
so a killed build is never reused. The portfolio's figures (counts, the build's day) are kept with it:
a database comment on PostgreSQL, a JSON file next to the SQLite file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import make_engine
from app.services.core.crypto import SecretBox
from benchmarks import portfolio

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
OUT_DIR = Path(__file__).resolve().parent / "out"
Log = Callable[[str], None]


def _name(clients: int, titles: int, send: int, seed: int) -> str:
    return f"bench_collections_c{clients}_t{titles}_s{send}_r{seed}"


def _dump(pf: portfolio.Portfolio) -> str:
    return json.dumps({**dataclasses.asdict(pf), "today": pf.today.isoformat()})


def _load(raw: str) -> portfolio.Portfolio:
    data = json.loads(raw)
    data["today"] = dt.date.fromisoformat(data["today"])
    return portfolio.Portfolio(**data)


def prepare(url: str | None, key: str, *, clients: int, titles: int, send: int, seed: int, today: dt.date,
            log: Log) -> tuple[str, portfolio.Portfolio, Callable[[], None], str]:
    """(url of a fresh copy, the portfolio, drop the copy, where for the log); builds the template first
    when there is none. The portfolio keeps the day it was built for: every run sends the same titles."""
    name = _name(clients, titles, send, seed)
    build = dict(clients=clients, titles=titles, send_clients=send, today=today, seed=seed, log=log)
    if url and url.startswith(("postgresql", "postgres:")):
        return _prepare_postgres(url, name, key, build, log)
    if url:
        raise SystemExit("--reuse works with --database sqlite|postgresql or a PostgreSQL --database-url")
    return _prepare_sqlite(name, key, build, log)


def _server_url(url: str, database: str) -> str:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _prepare_postgres(url: str, name: str, key: str, build: dict, log: Log):
    admin = create_engine(_server_url(url, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        raw = conn.scalar(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"),
                          {"n": name})
        if raw is None:
            building = f"{name}_building"
            log(f"[reuse] building the template database {name}")
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{building}"')
            engine = make_engine(_server_url(url, building))
            try:
                pf = portfolio.build(engine, SecretBox(key), **build)
            finally:
                engine.dispose()
            raw = _dump(pf)
            conn.exec_driver_sql(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            conn.execute(text(f'COMMENT ON DATABASE "{name}" IS ' + "'" + raw.replace("'", "''") + "'"))
        else:
            log(f"[reuse] template database {name}")
        copy = f"{name}_run_{uuid.uuid4().hex[:6]}"
        # FILE_COPY: a file copy of the template, much faster than WAL_LOG's block-by-block log for 1M rows.
        conn.exec_driver_sql(f'CREATE DATABASE "{copy}" TEMPLATE "{name}" STRATEGY FILE_COPY')

    def drop() -> None:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        admin.dispose()

    return _server_url(url, copy), _load(raw), drop, f"database {copy} (a copy of {name})"


def _prepare_sqlite(name: str, key: str, build: dict, log: Log):
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    template, meta = OUT_DIR / f"{name}.sqlite3", OUT_DIR / f"{name}.json"
    if not (template.exists() and meta.exists()):
        log(f"[reuse] building the template file {template.name}")
        building = OUT_DIR / f"{name}.building.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{building}")
        try:
            pf = portfolio.build(engine, SecretBox(key), **build)
            with engine.connect() as conn:  # everything into the main file: the copy is one file
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        building.replace(template)
        meta.write_text(_dump(pf))
    else:
        log(f"[reuse] template file {template.name}")
    copy = OUT_DIR / f"{name}.run-{uuid.uuid4().hex[:6]}.sqlite3"
    shutil.copyfile(template, copy)

    def drop() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)

    return f"sqlite:///{copy}", _load(meta.read_text()), drop, f"file {copy.name} (a copy of {template.name})"
