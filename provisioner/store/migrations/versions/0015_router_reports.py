"""routers report how applying their configuration went; polling waits for it

Revision ID: 0015_router_reports
Revises: 0014_phone_file_keys
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_router_reports"
down_revision = "0014_phone_file_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """When a router's report is due, its last report, and a timeline event's detail (a
    report's reason)."""
    with op.batch_alter_table("routers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_routers_report_due_at"), ["report_due_at"])
        batch_op.add_column(sa.Column("report_outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("report_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("router_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("detail", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("router_events", schema=None) as batch_op:
        batch_op.drop_column("detail")
    with op.batch_alter_table("routers", schema=None) as batch_op:
        batch_op.drop_column("reported_at")
        batch_op.drop_column("report_reason")
        batch_op.drop_column("report_outcome")
        batch_op.drop_index(batch_op.f("ix_routers_report_due_at"))
        batch_op.drop_column("report_due_at")
