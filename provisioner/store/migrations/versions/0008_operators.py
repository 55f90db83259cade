"""device timeline: what kind of answer each request got, and by which route (/p/ or /p/a/)

Revision ID: 0008_operators
Revises: 0006_routers
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_operators"
down_revision = "0006_routers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Two columns on the device timeline; old events keep empty values."""
    with op.batch_alter_table("device_events") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("route", sa.String(length=8), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("device_events") as batch:
        batch.drop_column("route")
        batch.drop_column("kind")
