"""PostgreSQL: a notice on a channel at every change of tenants, phones and credentials

Revision ID: 0009_phone_change_notices
Revises: 0004_boot_storm
Create Date: 2026-12-03

Each server process keeps what the store holds for the MACs that asked (see
``provisioner.phones.lookups``) and forgets it when told that one of these tables changed.
The notice is sent by the database itself (a statement trigger), so no writer can forget
it, and only when the change commits. SQLite has no channels: there nothing is kept.
"""

from __future__ import annotations

from alembic import op

revision = "0009_phone_change_notices"
down_revision = "0004_boot_storm"
branch_labels = None
depends_on = None

CHANNEL = "provisioner_phone_changes"
TABLES = ("tenants", "phones", "device_credentials")
FUNCTION = "provisioner_phone_change_notice"


def upgrade() -> None:
    """The function and one statement trigger per table (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_change_notice AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def downgrade() -> None:
    """Drop the triggers and the function."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_change_notice ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
