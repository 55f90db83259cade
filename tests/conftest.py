"""Shared fixtures: an app on a temporary instance, clients, tokens per role, databases."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

from provisioner import create_app
from provisioner.security.secrets import get_secret_box
from provisioner.security.tokens import create_token, unused_token_name
from provisioner.store import get_store
from provisioner.tenants.yaml_io import import_tenant_file

PROJECT = Path(__file__).resolve().parent.parent
DEMO_FILE = PROJECT / "examples" / "demo.yaml"
POSTGRES_URL = os.environ.get(
    "PROVISIONER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session", autouse=True)
def command_servers() -> Iterator[Path]:
    """The `provisioner` commands the tests run go through command servers of this test
    process's own (as an operator's would, see provisioner.command_client), stopped at the end:
    none outlives the tests."""
    folder = Path(tempfile.mkdtemp(prefix="pcs", dir="/tmp"))  # short: a socket path is
    os.environ["PROVISIONER_COMMAND_SERVER_FOLDER"] = str(folder)  # at most 107 bytes
    yield folder
    stop_command_servers(folder)
    shutil.rmtree(folder, ignore_errors=True)


def command_server_processes(folder: Path) -> list[int]:
    """The command servers listening under ``folder`` (not the children running commands,
    which have the same command line)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
            arguments = command.split(b"\0")
            if b"provisioner.command_server" in arguments and any(
                argument.startswith(str(folder).encode()) for argument in arguments
            ):
                status = (entry / "status").read_text()
                parents[int(entry.name)] = int(status.split("\nPPid:\t")[1].split()[0])
        except (OSError, IndexError):
            continue
    return [pid for pid, parent in parents.items() if parent not in parents]


def stop_command_servers(folder: Path, seconds: float = 30) -> None:
    """Stop the command servers under ``folder`` and wait (at most ``seconds``) until gone."""
    for pid in command_server_processes(folder):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    while command_server_processes(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in command_server_processes(folder):  # wedged: none may outlive the tests
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL on the real PostgreSQL server, in a fresh schema dropped afterwards."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is needed for this test: {exc}")
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'provisioner.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def make_app(tmp_path: Path, database_url: str | None = None, **settings: object) -> Flask:
    """An app on a temporary instance folder, with its own key and database."""
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'provisioner.sqlite3'}",
        "SECRETS_KEY": Fernet.generate_key().decode(),
        "LOAD_DEMO_ON_EMPTY": False,
        "FIRMWARE_DIR": str(tmp_path / "firmware"),
        **settings,
    }
    return create_app(config, instance_path=str(tmp_path / "instance"))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """An empty app on SQLite."""
    application = make_app(tmp_path)
    yield application
    get_store(application).dispose()


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    """An app with the demo tenant imported."""
    import_demo(app)
    return app


def import_demo(app: Flask) -> None:
    """Import examples/demo.yaml into ``app``'s store."""
    with get_store(app).transaction() as session:
        import_tenant_file(session, DEMO_FILE, "test", get_secret_box(app))


@pytest.fixture
def client(demo_app: Flask) -> FlaskClient:
    """A test client of the demo app."""
    return demo_app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner of the (empty) app."""
    return app.test_cli_runner()


def token_for(app: Flask, role: str) -> str:
    """A fresh API token with ``role``."""
    with get_store(app).transaction() as session:
        return create_token(session, role, unused_token_name(session, f"{role}-test"))


@pytest.fixture
def admin_headers(demo_app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(demo_app, 'admin')}"}


@pytest.fixture
def support_headers(demo_app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(demo_app, 'support')}"}


@pytest.fixture
def technician_headers(demo_app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(demo_app, 'technician')}"}


# A skip for want of a tool the setup installs ("needs nginx", "... is missing; run ...", "not
# installed") is a failure where every tool must be there: CI sets PROVISIONER_TESTS_NEED_TOOLS
# (.ci/run), so a package left out of scripts/apt-packages cannot make tests pass by not running.
# Skips about the machine itself (no IPv6 loopback, no capability to drop) stay skips.
MISSING_TOOL = re.compile(r"\bneeds\b|\bis missing\b|\bnot installed\b")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or not os.environ.get("PROVISIONER_TESTS_NEED_TOOLS"):
        return
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if MISSING_TOOL.search(reason) and "root" not in reason:
        report.outcome = "failed"
        report.longrepr = (
            f"a tool the setup installs is missing (PROVISIONER_TESTS_NEED_TOOLS): {reason}"
        )
