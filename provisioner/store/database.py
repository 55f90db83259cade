"""Engine and sessions for the configured database; one `Store` per app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

EXTENSION_KEY = "provisioner.store"


class Store:
    """The database behind one app: an engine and a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The same pool, each statement committed on its own: no BEGIN and COMMIT round trips.
        self._statement_sessions = sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def statements(self) -> Iterator[Session]:
        """A session whose every statement commits on its own, for work where each write is
        one statement that stands alone (a phone's request: a lookup, an audit row). Pending
        objects are written when the block ends without an error."""
        with self._statement_sessions() as session:
            yield session
            session.commit()

    @contextmanager
    def rehearsal(self) -> Iterator[Session]:
        """A session in one transaction that is always rolled back: a dry run."""
        with self.sessions() as session:
            session.begin()
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only; nothing it does is committed."""
        with self.sessions() as session:
            yield session

    def is_empty(self) -> bool:
        """True when no tenant has been stored yet (or the schema is missing)."""
        from provisioner.store.models import Tenant

        if not inspect(self.engine).has_table(Tenant.__tablename__):
            return True
        with self.reading() as session:
            return session.query(Tenant.id).first() is None

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if url in ("sqlite://", "sqlite:///:memory:"):
        options["poolclass"] = StaticPool
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(connection: Any, _record: Any) -> None:
    # WAL lets readers (phones booting) go on while a writer (an import) commits.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask) -> None:
    """Create the app's store and migrate its schema to the newest revision."""
    store = Store(app.config["DATABASE_URL"])
    app.extensions[EXTENSION_KEY] = store
    if app.config.get("MIGRATE_ON_START", True):
        from provisioner.store.schema_check import schema_is_current

        if not schema_is_current(store.engine):
            from provisioner.store.migrate import upgrade

            upgrade(store.engine)


def get_store(app: Flask | None = None) -> Store:
    """The store of ``app``, or of the current app."""
    store: Store = (app or current_app).extensions[EXTENSION_KEY]
    return store
