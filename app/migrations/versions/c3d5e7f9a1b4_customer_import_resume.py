"""customer_imports: an import can be resumed after its process died (attempts) or end
"interrupted" when it cannot be.

Revision ID: c3d5e7f9a1b4
Revises: b2c4d6e8f0a3
"""

import sqlalchemy as sa
from alembic import op

revision = "c3d5e7f9a1b4"
down_revision = "b2c4d6e8f0a3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_imports") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.alter_column("status", existing_type=sa.String(length=10), type_=sa.String(length=12),
                           existing_nullable=False)
        batch.drop_constraint(op.f("ck_customer_imports_status"), type_="check")
        batch.create_check_constraint("status", "status in ('running','done','failed','interrupted')")


def downgrade() -> None:
    op.execute("UPDATE customer_imports SET status = 'failed' WHERE status = 'interrupted'")
    with op.batch_alter_table("customer_imports") as batch:
        batch.drop_constraint(op.f("ck_customer_imports_status"), type_="check")
        batch.create_check_constraint("status", "status in ('running','done','failed')")
        batch.alter_column("status", existing_type=sa.String(length=12), type_=sa.String(length=10),
                           existing_nullable=False)
        batch.drop_column("attempts")
