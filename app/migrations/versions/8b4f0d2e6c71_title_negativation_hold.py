"""Titles keep a "não negativar" hold after a negativation removed by hand.

Revision ID: 8b4f0d2e6c71
Revises: 7a3e9c1d2b50
"""

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = "8b4f0d2e6c71"
down_revision = "7a3e9c1d2b50"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("titles") as batch:
        batch.add_column(sa.Column("hold_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("hold_reason", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("hold_negativation_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("titles") as batch:
        batch.drop_column("hold_negativation_id")
        batch.drop_column("hold_reason")
        batch.drop_column("hold_at")
