"""merge the phones and network branches of the schema

Revision ID: 0003_merge_phones_network
Revises: 0002_phones, 0002_network
Create Date: 2026-11-26
"""

from __future__ import annotations

revision = "0003_merge_phones_network"
down_revision = ("0002_phones", "0002_network")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: this revision only joins two heads into one."""


def downgrade() -> None:
    """Nothing to change."""
