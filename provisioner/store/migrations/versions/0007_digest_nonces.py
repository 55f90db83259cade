"""digest nonce uses: the highest nc answered per nonce, against replayed Authorization headers

Revision ID: 0007_digest_nonces
Revises: 0005_firmware
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_digest_nonces"
down_revision = "0005_firmware"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table of nonce uses."""
    op.create_table(
        "digest_nonce_uses",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("last_count", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_digest_nonce_uses")),
    )
    with op.batch_alter_table("digest_nonce_uses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_digest_nonce_uses_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    """Drop the table of nonce uses."""
    with op.batch_alter_table("digest_nonce_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_nonce_uses_expires_at"))
    op.drop_table("digest_nonce_uses")
