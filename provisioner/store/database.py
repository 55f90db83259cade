"""Engine and sessions for the configured database; one `Store` per app."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from provisioner.app_core import AppCore, flask_current_app

EXTENSION_KEY = "provisioner.store"
Result = TypeVar("Result")
# Pooled connections of the phone path are replaced after this long (see Store.statements).
STATEMENT_POOL_RECYCLE_SECONDS = 600


class Store:
    """The database behind one app: an engine and a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Phone requests: each statement committed on its own (no BEGIN and COMMIT round
        # trips), from a pool that does not ping a connection before each use (another round
        # trip); a connection the server dropped is noticed by the failing statement, and
        # the work is run again once on a new one (``run_statements``).
        self._statement_engine = (
            self.engine if url.startswith("sqlite") else make_engine(url, ping=False)
        )
        self._on_dispose: list[Callable[[], None]] = []
        self._statement_sessions = sessionmaker(
            self._statement_engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
        )
        self._idle_statements = threading.local()  # each thread's session between blocks

    @property
    def statement_engine(self) -> Engine:
        """The engine of ``statements`` sessions (the phone path's pool)."""
        return self._statement_engine

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def statements(self) -> Iterator[Session]:
        """A session whose every statement commits on its own, for work where each write is
        one statement that stands alone (a phone's request: a lookup, an audit row). Pending
        objects are written when the block ends without an error; a block that touched
        nothing (a phone answered from what the process keeps) costs no commit. Each thread
        keeps its session between blocks, emptied (making and closing one cost about as much
        CPU as answering a phone from what is kept); a block that fails closes it."""
        session = self._idle_statements.__dict__.pop("session", None)
        if session is None:
            session = self._statement_sessions()
        try:
            yield session
            if session.in_transaction() or session.new or session.dirty or session.deleted:
                session.commit()
        except BaseException:
            session.close()
            raise
        if session.identity_map or session.in_transaction():
            session.close()  # the rows it loaded are let go, as a closed session's are
        self._idle_statements.session = session

    def run_statements(self, work: Callable[[Session], Result]) -> Result:
        """``work`` in a ``statements`` session; run once more on a fresh connection when
        the first one turns out dropped (the database restarted since it was pooled)."""
        try:
            with self.statements() as session:
                return work(session)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        with self.statements() as session:
            return work(session)

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

    def on_dispose(self, stop: Callable[[], None]) -> None:
        """Call ``stop`` (a thread using our engines ends) when the store is disposed."""
        self._on_dispose.append(stop)

    def dispose(self) -> None:
        """Stop what uses the engines, and close every pooled connection."""
        for stop in self._on_dispose:
            stop()
        self.engine.dispose()
        if self._statement_engine is not self.engine:
            self._statement_engine.dispose()


def make_engine(url: str, ping: bool = True) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout. ``ping``:
    test each pooled connection before use, else replace it after a while."""
    if not url.startswith("sqlite"):
        if not ping:
            return create_engine(url, pool_recycle=STATEMENT_POOL_RECYCLE_SECONDS)
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


def init_app(app: AppCore) -> None:
    """Create the app's store and migrate its schema to the newest revision."""
    store = Store(app.config["DATABASE_URL"])
    app.extensions[EXTENSION_KEY] = store
    if app.config.get("MIGRATE_ON_START", True):
        from provisioner.store.schema_check import schema_is_current

        if not schema_is_current(store.engine):
            from provisioner.store.migrate import upgrade

            upgrade(store.engine)


def get_store(app: AppCore | None = None) -> Store:
    """The store of ``app``, or of the current app."""
    store: Store = (app or flask_current_app()).extensions[EXTENSION_KEY]
    return store
