"""Bureau bad days: token lifetime and refusal, circuit breaker per integration, uncertain consultations

Revision ID: 8e4b2c1d7f93
Revises: 8bbd69a364be
Create Date: 2026-11-30 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "8e4b2c1d7f93"
down_revision = "8bbd69a364be"
branch_labels = None
depends_on = None

_INSTANT = app.models.base.UTCDateTime(timezone=True)
_OLD_STATUSES = "status in ('pending','success','failed','reused')"
_NEW_STATUSES = "status in ('pending','success','failed','reused','uncertain')"


def upgrade() -> None:
    with op.batch_alter_table("bureau_integrations") as batch:
        batch.add_column(sa.Column("token_issued_at", _INSTANT, nullable=True))
        batch.add_column(sa.Column("token_refused_at", _INSTANT, nullable=True))
        batch.add_column(sa.Column("token_refusal_message", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("breaker_state", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("breaker_opened_at", _INSTANT, nullable=True))
        batch.add_column(sa.Column("breaker_retry_at", _INSTANT, nullable=True))
        # Existing rows start closed, with no failure counted.
        batch.add_column(sa.Column("breaker_probes", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("breaker_message", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("outage_since", _INSTANT, nullable=True))
        batch.add_column(sa.Column("outage_failures", sa.Integer(), nullable=False, server_default="0"))
    # An uncertain consultation (answer lost, maybe charged) is a status of its own.
    with op.batch_alter_table("consultations") as batch:
        batch.drop_constraint(op.f("ck_consultations_status"), type_="check")
        batch.create_check_constraint(op.f("ck_consultations_status"), sa.text(_NEW_STATUSES))


def downgrade() -> None:
    # Uncertain consultations become failed ones: the closest status the old schema knows.
    op.execute("UPDATE consultations SET status = 'failed' WHERE status = 'uncertain'")
    with op.batch_alter_table("consultations") as batch:
        batch.drop_constraint(op.f("ck_consultations_status"), type_="check")
        batch.create_check_constraint(op.f("ck_consultations_status"), sa.text(_OLD_STATUSES))
    with op.batch_alter_table("bureau_integrations") as batch:
        for column in ("outage_failures", "outage_since", "breaker_message", "breaker_probes", "breaker_retry_at",
                       "breaker_opened_at", "breaker_state", "token_refusal_message", "token_refused_at",
                       "token_issued_at"):
            batch.drop_column(column)
