"""tokens limited to tenants: the names of the tenants a token may act on (none: every one)

Revision ID: 0011_token_tenants
Revises: 0010_technician_sessions
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_token_tenants"
down_revision = "0010_technician_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column; existing tokens keep acting on every tenant."""
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tenants", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("tenants")
