"""phone file keys: a per-device key for encrypted configuration files, and its delivery

Revision ID: 0014_phone_file_keys
Revises: 0013_network_poll_leases
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_phone_file_keys"
down_revision = "0013_network_poll_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Both columns empty: credentials made before get a key when one is first needed."""
    with op.batch_alter_table("device_credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_key_encrypted", sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column("file_key_delivered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop both (phones holding a key read plain files again)."""
    with op.batch_alter_table("device_credentials", schema=None) as batch_op:
        batch_op.drop_column("file_key_delivered_at")
        batch_op.drop_column("file_key_encrypted")
