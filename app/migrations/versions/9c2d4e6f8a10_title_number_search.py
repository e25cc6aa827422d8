"""Titles: an index for the number search by prefix, case ignored.

Revision ID: 9c2d4e6f8a10
Revises: 8e4b2c1d7f93
"""

from alembic import op

revision = "9c2d4e6f8a10"
down_revision = "8e4b2c1d7f93"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_titles_number_upper ON titles (upper(number) text_pattern_ops)")
    else:
        op.execute("CREATE INDEX ix_titles_number_upper ON titles (upper(number))")


def downgrade() -> None:
    op.execute("DROP INDEX ix_titles_number_upper")
