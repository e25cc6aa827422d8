"""title_open_totals: the ledger of collectible open amounts by branch and due date (the panel's aging),
backfilled from the titles.

Revision ID: c4e6a8b0d2f5
Revises: c3d5e7f9a1b4
"""

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "c4e6a8b0d2f5"
down_revision = "c3d5e7f9a1b4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "title_open_totals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("open_count", sa.Integer(), nullable=False),
        sa.Column("open_amount", app.models.base.Money(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"],
                                name=op.f("fk_title_open_totals_branch_id_branches"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_title_open_totals")),
    )
    op.create_index("ix_title_open_totals_branch_due", "title_open_totals", ["branch_id", "due_date"], unique=False)
    # Backfill: one row per (branch, due date) with collectible titles ("Titles" in docs/domain-rules.md:
    # open or partial, open amount above zero). Money is stored alike in both tables (NUMERIC on
    # PostgreSQL, cents on SQLite), so the sum is copied as it is.
    op.execute(
        "INSERT INTO title_open_totals (branch_id, due_date, open_count, open_amount) "
        "SELECT branch_id, due_date, count(*), sum(open_amount) FROM titles "
        "WHERE status IN ('open', 'partial') AND open_amount > 0 GROUP BY branch_id, due_date"
    )


def downgrade() -> None:
    op.drop_index("ix_title_open_totals_branch_due", table_name="title_open_totals")
    op.drop_table("title_open_totals")
