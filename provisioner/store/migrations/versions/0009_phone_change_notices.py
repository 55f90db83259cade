"""PostgreSQL: a notice naming the tenant at every change of tenants, phones and credentials

Revision ID: 0009_phone_change_notices
Revises: 0004_boot_storm
Create Date: 2026-12-03

Each server process keeps what the store holds for the MACs that asked (see
``provisioner.store.notices``) and forgets a tenant's when told that its rows changed. The
notice (the tenant's id; ``*`` for a TRUNCATE) is sent by the database itself, from row
triggers, so no writer can forget it, and only when the change commits (PostgreSQL sends one
notice per distinct payload and transaction). SQLite has no channels: there nothing is kept.
"""

from __future__ import annotations

from alembic import op

revision = "0009_phone_change_notices"
down_revision = "0004_boot_storm"
branch_labels = None
depends_on = None

CHANNEL = "provisioner_phone_changes"
# Each table with the column that names the row's tenant.
TABLES = {"tenants": "id", "phones": "tenant_id", "device_credentials": "tenant_id"}


def upgrade() -> None:
    """A row function and a truncate function per table, and their triggers (PostgreSQL)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in TABLES.items():
        op.execute(
            f"CREATE OR REPLACE FUNCTION {table}_change_notice() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'TRUNCATE' THEN "
            f"PERFORM pg_notify('{CHANNEL}', '*'); "
            "ELSE "
            # a row moved to another tenant is news to both (one notice each)
            f"IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('{CHANNEL}', NEW.{column}::text); "
            "END IF; "
            f"IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('{CHANNEL}', OLD.{column}::text); "
            "END IF; "
            "END IF; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_change_notice AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_change_notice()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_truncate_notice AFTER TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_change_notice()"
        )


def downgrade() -> None:
    """Drop the triggers and the functions."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_change_notice ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_truncate_notice ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_change_notice()")
