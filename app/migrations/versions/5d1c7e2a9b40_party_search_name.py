"""parties.search_name: name search by any word, accents ignored

Revision ID: 5d1c7e2a9b40
Revises: bce20367340b
Create Date: 2026-11-24 02:00:00
"""

import sqlalchemy as sa
from alembic import op

from app.models.search_text import fold_words

revision = "5d1c7e2a9b40"
down_revision = "bce20367340b"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    op.add_column("parties", sa.Column("search_name", sa.String(length=400), nullable=True))
    # Existing rows: folded in Python (the same function the application uses), in id batches.
    bind = op.get_bind()
    parties = sa.table("parties", sa.column("id", sa.Integer), sa.column("name", sa.String),
                       sa.column("search_name", sa.String))
    stmt = sa.update(parties).where(parties.c.id == sa.bindparam("pid")).values(search_name=sa.bindparam("folded"))
    last = 0
    while True:
        rows = bind.execute(sa.select(parties.c.id, parties.c.name).where(parties.c.id > last)
                            .order_by(parties.c.id).limit(BATCH)).all()
        if not rows:
            break
        bind.execute(stmt, [{"pid": r.id, "folded": fold_words(r.name)} for r in rows])
        last = rows[-1].id
    # The name search is now by word on search_name; the lower(name) prefix index serves nothing.
    op.drop_index("ix_parties_name_lower_prefix", table_name="parties")


def downgrade() -> None:
    # Column first: SQLite's batch mode rebuilds the table and cannot carry an expression index over.
    with op.batch_alter_table("parties") as batch:
        batch.drop_column("search_name")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_parties_name_lower_prefix ON parties (lower(name) text_pattern_ops)")
    else:
        op.execute("CREATE INDEX ix_parties_name_lower_prefix ON parties (lower(name))")
