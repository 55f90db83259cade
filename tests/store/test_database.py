"""The store on SQLite and on PostgreSQL: migrations, round trips, WAL, transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from provisioner.errors import ValidationFailed
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.store.models import AuditEvent, Base, Extension, Tenant
from provisioner.tenants.repository import find_tenant, load_document, save_document
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.numbers import Sound
from tests.conftest import import_demo, make_app


@pytest.fixture
def store_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    app = make_app(tmp_path, database_url)
    yield app
    get_store(app).dispose()


def test_migrations_create_exactly_the_models(store_app: Flask) -> None:
    engine = get_store(store_app).engine
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == [], "models and migrations differ: add a migration revision"


def test_demo_round_trips_through_the_store(store_app: Flask) -> None:
    import_demo(store_app)
    box = get_secret_box(store_app)
    with get_store(store_app).reading() as session:
        document = load_document(session, find_tenant(session, "demo"), box)
    assert [extension.number for extension in document.extensions] == ["240", "241", "242", "243"]
    assert document.call_flows[0].steps[3].branches()["choices.2"] == "doorverbinden-melding"
    assert all(extension.sip_password for extension in document.extensions)


def test_secrets_are_encrypted_at_rest(store_app: Flask) -> None:
    import_demo(store_app)
    with get_store(store_app).reading() as session:
        document = load_document(session, find_tenant(session, "demo"), get_secret_box(store_app))
        stored = session.scalars(select(Extension.sip_password_encrypted)).all()
    passwords = {extension.sip_password for extension in document.extensions}
    assert passwords.isdisjoint(stored)
    assert all(password not in value for value in stored for password in passwords if password)


def stored_demo(store_app: Flask) -> tuple[TenantDocument, TenantDocument]:
    """The imported demo as stored, and a copy to change, with a new display name already."""
    import_demo(store_app)
    with get_store(store_app).reading() as session:
        before = load_document(session, find_tenant(session, "demo"))
    changed = before.model_copy(deep=True)
    changed.display_name = "Half-written"
    return before, changed


def test_failed_save_leaves_the_store_unchanged(store_app: Flask) -> None:
    store = get_store(store_app)
    before, changed = stored_demo(store_app)
    changed.numbers[0].destination = "call_flow:Bestaat niet"
    with pytest.raises(ValidationFailed), store.transaction() as session:
        save_document(session, changed, "test", get_secret_box(store_app))
    with store.reading() as session:
        assert load_document(session, find_tenant(session, "demo")) == before


def test_a_save_failing_after_it_began_writing_leaves_the_store_unchanged(
    store_app: Flask,
) -> None:
    # The test above fails in validation, before any write; this one fails on the sounds,
    # after the tenant's settings and its extensions were already flushed.
    store = get_store(store_app)
    before, changed = stored_demo(store_app)
    changed.extensions[0].name = "Half-written"
    changed.sounds.append(Sound(name="Kapot.mp3"))
    with pytest.raises(ValidationFailed) as caught, store.transaction() as session:
        save_document(
            session, changed, "test", get_secret_box(store_app), {"Kapot.mp3": b"not audio"}
        )
    assert caught.value.problems[0].path == "sounds[4].file"
    with store.reading() as session:
        assert load_document(session, find_tenant(session, "demo")) == before
        assert "Half-written" not in str(session.scalars(select(AuditEvent.changes)).all())


def test_upgrading_again_keeps_the_data(tmp_path: Path, database_url: str) -> None:
    first = make_app(tmp_path, database_url)
    import_demo(first)
    key = first.config["SECRETS_KEY"]
    get_store(first).dispose()
    second = make_app(tmp_path, database_url, SECRETS_KEY=key)
    with get_store(second).reading() as session:
        assert session.scalar(select(Tenant.name)) == "demo"
        assert inspect(session.connection()).has_table("alembic_version")
    get_store(second).dispose()


def test_sqlite_runs_in_wal_mode_so_readers_do_not_wait(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    import_demo(app)
    database = tmp_path / "provisioner.sqlite3"
    writer = sqlite3.connect(database, timeout=0.1, isolation_level=None)
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE tenants SET display_name = 'being written'")
        with get_store(app).reading() as session:
            assert session.scalar(text("SELECT display_name FROM tenants")) == "Demo Telecom B.V."
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        get_store(app).dispose()


def test_the_start_up_check_knows_when_the_schema_is_current(
    tmp_path: Path, database_url: str
) -> None:
    """Start-up skips Alembic only when the database is at every head Alembic itself sees."""
    from alembic.script import ScriptDirectory

    from provisioner.store.migrate import alembic_config, upgrade
    from provisioner.store.schema_check import VERSIONS_FOLDER, head_revisions, schema_is_current

    app = make_app(tmp_path, database_url, MIGRATE_ON_START=False)
    engine = get_store(app).engine
    script = ScriptDirectory.from_config(alembic_config(engine))
    assert head_revisions(VERSIONS_FOLDER) == set(script.get_heads())
    assert not schema_is_current(engine)  # nothing there yet
    upgrade(engine, "0001_initial")
    assert not schema_is_current(engine)
    upgrade(engine)
    assert schema_is_current(engine)
    get_store(app).dispose()


def test_phone_statements_survive_a_connection_the_server_dropped(postgres_url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    from provisioner.store.database import Store
    from tests.conftest import POSTGRES_URL

    store = Store(postgres_url)
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def backend(session: Session) -> int:
        return int(session.execute(text("select pg_backend_pid()")).scalar_one())

    def drop(pid: int) -> None:
        with admin.connect() as connection:
            connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})

    try:
        first = store.run_statements(backend)
        drop(first)
        # The pool does not ping (a round trip per request): used as is, the dropped
        # connection fails...
        with pytest.raises(DBAPIError), store.statements() as session:
            backend(session)
        drop(store.run_statements(backend))
        # ...and run_statements notices and runs the work again on a new connection.
        assert store.run_statements(backend) not in (first, 0)
    finally:
        store.dispose()
        admin.dispose()


def test_a_kept_statement_session_hands_on_nothing(store_app: Flask) -> None:
    """Each thread keeps its phone-path session between blocks: what one block loaded or
    left pending never reaches the next, a failed block's session is not kept, and another
    thread gets a session of its own."""
    import threading

    from sqlalchemy import inspect as state_of

    import_demo(store_app)
    store = get_store(store_app)
    with store.statements() as session:
        first = session
        tenant = session.scalars(select(Tenant)).first()
    assert tenant is not None and state_of(tenant).detached  # let go, as closing would
    with store.statements() as session:
        assert session is first and not session.identity_map and not session.in_transaction()
        session.add(AuditEvent(actor="kept-session", action="kept", object_type="session"))
    with pytest.raises(ZeroDivisionError), store.statements() as session:
        session.add(AuditEvent(actor="kept-session", action="lost", object_type="session"))
        session.flush()
        _ = 1 / 0
    with store.statements() as session:
        assert session is not first  # the failed block's session went with it
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor == "kept-session")
        )
        assert sorted(actions) == ["kept", "lost"]  # each statement commits on its own
    others: list[Session] = []

    def in_another_thread() -> None:
        with store.statements() as other:
            others.append(other)

    thread = threading.Thread(target=in_another_thread)
    thread.start()
    thread.join(timeout=30)
    assert others and others[0] is not session
