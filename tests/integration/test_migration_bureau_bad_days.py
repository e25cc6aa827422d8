"""The bureau bad-days migration keeps existing rows: integrations start with the breaker closed,
consultations accept 'uncertain', and a downgrade turns uncertain ones into failed ones."""

from __future__ import annotations

from sqlalchemy import text

from app.db import make_engine
from app.migrations.runner import downgrade, upgrade

BEFORE = "5d1c7e2a9b40"
STAMP = "'2026-01-01 00:00:00'"


def test_existing_rows_survive_and_uncertain_round_trips(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url, BEFORE)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO bureau_integrations (id, name, provider, environment, base_url, client_id, "
            "client_secret_encrypted, auto_include_remove, created_at, updated_at) VALUES "
            f"(1, 'CnM', 'credito_na_medida', 'homologacao', 'http://x', 'c', 's', 0, {STAMP}, {STAMP})"))
        conn.execute(text(f"INSERT INTO branches (id, name, cnpj, active, bureau_integration_id, created_at, "
                          f"updated_at) VALUES (1, 'F', '11444777000161', 1, 1, {STAMP}, {STAMP})"))
        conn.execute(text(f"INSERT INTO parties (id, branch_id, stage, name, status, created_at, updated_at) "
                          f"VALUES (7, 1, 'client', 'Ana', 'PEN', {STAMP}, {STAMP})"))
    upgrade(url)
    consultation = ("INSERT INTO consultations (id, party_id, branch_id, actor, document_kind, purpose, stage, "
                    "status, force_new, cost, charged, requested_at) VALUES (:id, 7, 1, 'a', 'CPF', 'cadastro', "
                    f"'client', :status, 0, 0, 0, {STAMP})")
    with engine.begin() as conn:
        row = conn.execute(text("SELECT breaker_state, breaker_probes, outage_failures, token_refused_at "
                                "FROM bureau_integrations")).one()
        assert tuple(row) == (None, 0, 0, None)
        conn.execute(text(consultation), {"id": 1, "status": "uncertain"})
    downgrade(url, BEFORE)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT status FROM consultations")).scalar() == "failed"
    engine.dispose()
