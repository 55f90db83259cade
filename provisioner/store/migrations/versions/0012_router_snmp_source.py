"""routers: the network the poller asks from, the only one a router answers SNMP from

Revision ID: 0012_router_snmp_source
Revises: 0011_token_tenants
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_router_snmp_source"
down_revision = "0011_token_tenants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column; a router stored without it is refused at render until it is set."""
    with op.batch_alter_table("routers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snmp_allowed_from", sa.String(length=18), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("routers", schema=None) as batch_op:
        batch_op.drop_column("snmp_allowed_from")
