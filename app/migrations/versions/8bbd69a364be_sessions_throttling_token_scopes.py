"""Security: session versions, forced password change, token scopes and expiry, login throttling, inbound replay

Revision ID: 8bbd69a364be
Revises: 19f3a8521d85
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "8bbd69a364be"
down_revision = "19f3a8521d85"
branch_labels = None
depends_on = None

# The scopes as they were defined when tokens got them (frozen here: later changes to
# app/services/core/scopes.py must not change what this migration did). Every existing token gets
# all of them: the role is still checked on every route, so each token keeps doing exactly what its
# user's role allows, with the same answers.
_ALL = ["crm:read", "crm:write", "consultations", "negativations", "titles", "collections", "credit", "settings",
        "commerce:inbound", "commerce:orders"]


def upgrade() -> None:
    # Plain ADD COLUMN, no batch mode: on SQLite a batch rebuild of `users` drops the table, and with
    # foreign keys on that deletes every API token (ON DELETE CASCADE) and unlinks the audit trail.
    op.add_column("users", sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    # A row written without scopes (raw SQL) gets none: fail closed.
    op.add_column("api_tokens", sa.Column("scopes", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("api_tokens", sa.Column("expires_at", app.models.base.UTCDateTime(timezone=True), nullable=True))

    # Existing tokens keep working: see _ALL.
    tokens = sa.table("api_tokens", sa.column("id", sa.Integer), sa.column("scopes", sa.JSON))
    op.get_bind().execute(sa.update(tokens).values(scopes=_ALL))

    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_failure_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_until", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttles")),
        sa.UniqueConstraint("kind", "key_hash", name=op.f("uq_login_throttles_kind_key_hash")),
    )
    op.create_index(op.f("ix_login_throttles_last_failure_at"), "login_throttles", ["last_failure_at"], unique=False)
    op.create_table(
        "commerce_inbound_signatures",
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("received_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"],
                                name=op.f("fk_commerce_inbound_signatures_branch_id_branches"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_commerce_inbound_signatures")),
    )
    op.create_index(op.f("ix_commerce_inbound_signatures_received_at"), "commerce_inbound_signatures",
                    ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_commerce_inbound_signatures_received_at"), table_name="commerce_inbound_signatures")
    op.drop_table("commerce_inbound_signatures")
    op.drop_index(op.f("ix_login_throttles_last_failure_at"), table_name="login_throttles")
    op.drop_table("login_throttles")
    # Plain DROP COLUMN (SQLite >= 3.35): no table rebuild, so no cascade into tokens or the audit trail.
    op.drop_column("api_tokens", "expires_at")
    op.drop_column("api_tokens", "scopes")
    op.drop_column("users", "must_change_password")
    op.drop_column("users", "session_version")
