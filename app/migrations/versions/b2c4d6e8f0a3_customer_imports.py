"""customer_imports: the customer XML files uploaded on the web screen (progress and history).

Revision ID: b2c4d6e8f0a3
Revises: a1b3c5d7e9f2
"""

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = "b2c4d6e8f0a3"
down_revision = "a1b3c5d7e9f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("read_bytes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('running','done','failed')", name=op.f("ck_customer_imports_status")),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_customer_imports_branch_id_branches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_imports")),
    )
    op.create_index("ix_customer_imports_branch_id", "customer_imports", ["branch_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_customer_imports_branch_id", table_name="customer_imports")
    op.drop_table("customer_imports")
