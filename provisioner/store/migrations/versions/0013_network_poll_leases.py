"""network poll leases: several pollers share the inventory; a poll record names its poller

Revision ID: 0013_network_poll_leases
Revises: 0012_router_snmp_source
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_network_poll_leases"
down_revision = "0012_router_snmp_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The lease table (filled by the pollers) and the poller column of poll records."""
    op.create_table(
        "network_poll_leases",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["network_devices.id"],
            name=op.f("fk_network_poll_leases_device_id_network_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_network_poll_leases")),
    )
    with op.batch_alter_table("network_poll_leases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_network_poll_leases_due_at"), ["due_at"])
    with op.batch_alter_table("network_poll_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("poller", sa.String(length=100), nullable=False, server_default="")
        )


def downgrade() -> None:
    """Drop both."""
    with op.batch_alter_table("network_poll_records", schema=None) as batch_op:
        batch_op.drop_column("poller")
    with op.batch_alter_table("network_poll_leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_poll_leases_due_at"))
    op.drop_table("network_poll_leases")
