"""The Alembic migrations build, from an empty database, exactly the schema the models describe."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.db import make_engine
from app.migrations.runner import downgrade, upgrade
from app.models import Base
from tests.conftest import PG_BASE_URL


def _index_names(conn) -> set[str]:
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
    else:
        rows = conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"))
    return {r[0] for r in rows}


def _assert_matches_models(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        import warnings

        with warnings.catch_warnings():
            # Alembic cannot reflect expression indexes (e.g. lower(name)); checked by name below.
            warnings.filterwarnings("ignore", message="autogenerate skipping metadata-specified expression")
            warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
            diff = compare_metadata(ctx, Base.metadata)
        existing = _index_names(conn)
    engine.dispose()
    expression_indexes = [d for d in diff if d[0] == "add_index" and any(
        not hasattr(e, "name") or e.__class__.__name__ != "Column" for e in d[1].expressions)]
    for _, index in expression_indexes:
        assert index.name in existing, f"expression index {index.name} missing from the migrations"
    diff = [d for d in diff if d not in expression_indexes]
    assert diff == [], f"migrations and models differ: {diff}"


def _empty_sqlite(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"


def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path):
    url = _empty_sqlite(tmp_path)
    upgrade(url)
    _assert_matches_models(url)
    downgrade(url, "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


@pytest.mark.postgres
def test_postgres_upgrade_matches_models(pg_schema_url):
    base, _ = pg_schema_url
    schema = f"cdmig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in PG_BASE_URL else "?"
        url = f"{PG_BASE_URL}{sep}options=-csearch_path%3D{schema}"
        upgrade(url)
        _assert_matches_models(url)
        downgrade(url, "base")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_search_name_is_backfilled_for_existing_parties(tmp_path):
    url = _empty_sqlite(tmp_path)
    upgrade(url, "bce20367340b")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO branches (id, name, cnpj, active, created_at, updated_at) "
                          "VALUES (1, 'F', '11444777000161', 1, '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO parties (id, branch_id, stage, name, status, created_at, updated_at) "
                          "VALUES (7, 1, 'client', 'José Antônio D''Ávila', 'PEN', '2026-01-01', '2026-01-01')"))
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT search_name FROM parties WHERE id = 7")).scalar() == " jose antonio d avila"
    engine.dispose()


def test_title_open_totals_are_backfilled_from_the_titles(tmp_path):
    url = _empty_sqlite(tmp_path)
    upgrade(url, "c3d5e7f9a1b4")  # the revision before the ledger
    engine = make_engine(url)
    ts = "'2026-01-01', '2026-01-01'"
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO branches (id, name, cnpj, active, created_at, updated_at) "
                          f"VALUES (1, 'F', '11444777000161', 1, {ts})"))
        conn.execute(text(f"INSERT INTO parties (id, branch_id, stage, name, status, created_at, updated_at) "
                          f"VALUES (7, 1, 'client', 'Ana', 'PEN', {ts})"))
        # Amounts in cents (SQLite's Money): two open on one day, a partial, a paid and a cancelled one.
        for tid, due, amount, open_amount, status in ((1, "2026-02-10", 10000, 10000, "open"),
                                                      (2, "2026-02-10", 5000, 5000, "open"),
                                                      (3, "2026-03-10", 8000, 3000, "partial"),
                                                      (4, "2026-03-10", 8000, 0, "paid"),
                                                      (5, "2026-03-10", 8000, 0, "cancelled")):
            conn.execute(text(
                "INSERT INTO titles (id, branch_id, party_id, number, issue_date, due_date, amount, amount_received, "
                "open_amount, status, disputed, court_blocked, origin, created_at, updated_at) VALUES "
                f"({tid}, 1, 7, 'T-{tid}', '2026-01-01', '{due}', {amount}, {amount - open_amount}, {open_amount}, "
                f"'{status}', 0, 0, 'manual', {ts})"))
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT branch_id, due_date, open_count, open_amount FROM title_open_totals "
                                 "ORDER BY due_date")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "2026-02-10", 2, 15000), (1, "2026-03-10", 1, 3000)]
