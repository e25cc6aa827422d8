"""Credit policies: the reservation lasts a number of business days of the branch (default 5),
no longer a number of hours (120 h from a Monday afternoon ended on a Saturday).

Revision ID: a1b3c5d7e9f2
Revises: 9c2d4e6f8a10
"""

import sqlalchemy as sa
from alembic import op

revision = "a1b3c5d7e9f2"
down_revision = "9c2d4e6f8a10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credit_policies") as batch:
        batch.add_column(sa.Column("reservation_business_days", sa.Integer(), nullable=False, server_default="5"))
    # Whole days of 24 h become business days (120 h, the old default, is 5), within 1..30.
    op.execute("UPDATE credit_policies SET reservation_business_days = "
               "MIN(30, MAX(1, reservation_expiry_hours / 24))" if op.get_bind().dialect.name == "sqlite" else
               "UPDATE credit_policies SET reservation_business_days = "
               "LEAST(30, GREATEST(1, reservation_expiry_hours / 24))")
    with op.batch_alter_table("credit_policies") as batch:
        batch.alter_column("reservation_business_days", server_default=None)
        batch.drop_constraint(op.f("ck_credit_policies_reservation_hours_range"), type_="check")
        batch.drop_column("reservation_expiry_hours")
        batch.create_check_constraint(op.f("ck_credit_policies_reservation_days_range"), "reservation_business_days between 1 and 30")


def downgrade() -> None:
    with op.batch_alter_table("credit_policies") as batch:
        batch.add_column(sa.Column("reservation_expiry_hours", sa.Integer(), nullable=False, server_default="120"))
    op.execute("UPDATE credit_policies SET reservation_expiry_hours = reservation_business_days * 24")
    with op.batch_alter_table("credit_policies") as batch:
        batch.alter_column("reservation_expiry_hours", server_default=None)
        batch.drop_constraint(op.f("ck_credit_policies_reservation_days_range"), type_="check")
        batch.drop_column("reservation_business_days")
        batch.create_check_constraint(op.f("ck_credit_policies_reservation_hours_range"), "reservation_expiry_hours between 1 and 720")
