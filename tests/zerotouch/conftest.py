"""Fixtures for the agent: a LAN of two namespaces with the provisioner server on its router
side (module-wide, it takes a second to start), dnsmasq per test."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from provisioner.store import get_store
from tests.conftest import import_demo, make_app, token_for
from tests.zerotouch.lan import (
    PROJECT,
    Lan,
    namespaces_problem,
    server_environment,
    start_server,
    stop_process,
)


@dataclass
class ServedLan:
    """The LAN, the server process on it, and the test's own handle on the same store."""

    lan: Lan
    app: Flask
    technician_token: str
    server: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def served_lan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedLan]:
    problem = namespaces_problem()
    if problem:
        pytest.skip(problem)
    folder = tmp_path_factory.mktemp("lan")
    database_url = f"sqlite:///{folder / 'provisioner.sqlite3'}"
    app = make_app(folder, database_url)
    import_demo(app)
    token = token_for(app, "technician")
    lan = Lan()
    server = None
    try:
        lan.create()
        environment = server_environment(database_url, app.config["SECRETS_KEY"], folder / "i")
        server = start_server(lan, environment)
        yield ServedLan(lan, app, token, server)
    finally:
        stop_process(server)
        lan.destroy()
        get_store(app).dispose()


def start_sender(lan: Lan, namespace: str, interface: str, kinds: str, seconds: float):
    """Frames from ``namespace`` onto the LAN (see senders.py), in the background."""
    import sys

    return lan.popen(
        namespace,
        ["env", f"PYTHONPATH={PROJECT}", sys.executable, "-m", "tests.zerotouch.senders"]
        + [kinds, interface, str(seconds)],
    )


@pytest.fixture
def dnsmasq_folder(tmp_path: Path) -> Path:
    return tmp_path / "dnsmasq"
