"""Consultations keep the register's name next to the bureau's; the consultation policy weighs the
client's own overdue titles (overdue_block_days).

Revision ID: 7a3e9c1d2b50
Revises: 5d1c7e2a9b40
"""

import sqlalchemy as sa
from alembic import op

revision = "7a3e9c1d2b50"
down_revision = "5d1c7e2a9b40"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("register_name", sa.String(length=200), nullable=True))
    with op.batch_alter_table("consultation_policies") as batch:
        batch.add_column(sa.Column("overdue_block_days", sa.Integer(), nullable=False, server_default="30"))
        batch.create_check_constraint("overdue_block_days_range", "overdue_block_days between 0 and 3650")


def downgrade() -> None:
    with op.batch_alter_table("consultation_policies") as batch:
        batch.drop_constraint("overdue_block_days_range", type_="check")
        batch.drop_column("overdue_block_days")
    with op.batch_alter_table("consultations") as batch:
        batch.drop_column("register_name")
