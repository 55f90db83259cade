"""technician sessions held on the server: sign-out and idle time end them

Revision ID: 0010_technician_sessions
Revises: 0009_phone_change_notices
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_technician_sessions"
down_revision = "0009_phone_change_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table of sessions."""
    op.create_table(
        "technician_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_technician_sessions_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_sessions")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_technician_sessions_session_hash")),
    )
    with op.batch_alter_table("technician_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_technician_sessions_token_id"), ["token_id"], unique=False
        )


def downgrade() -> None:
    """Drop the table of sessions."""
    with op.batch_alter_table("technician_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_technician_sessions_token_id"))
    op.drop_table("technician_sessions")
