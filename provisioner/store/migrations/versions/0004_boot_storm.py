"""tenants.revision: a token changed with every change, for the phone files' caches

Revision ID: 0004_boot_storm
Revises: 0007_digest_nonces
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_boot_storm"
down_revision = "0007_digest_nonces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column; existing tenants start at the empty revision."""
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.String(length=32), server_default="", nullable=False)
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("revision")
