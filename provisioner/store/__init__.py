"""The store: SQLAlchemy models, sessions and migrations. SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from provisioner.store.database import Store, get_store, init_app

__all__ = ["Store", "get_store", "init_app"]
