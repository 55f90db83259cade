"""Fixtures for the HTTP tests: the production command serving provisioner."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.http.test_production import start_production, stop
from tests.phones.conftest import pair

MAC = "805ec0123456"
AGENT = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"
PHONE_FILE = f"GET /p/{MAC}.cfg HTTP/1.1\r\nHost: x\r\nUser-Agent: {AGENT}\r\n\r\n".encode()


def fetch(port: int, request: bytes = PHONE_FILE) -> tuple[bytes, float]:
    """One request on a new connection, as phones send it: (answer, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received, time.monotonic() - started


def environment_of(app: Flask, folder: Path) -> dict[str, str]:
    """The environment that configures the production command's workers as ``app`` is, with
    /metrics summing every worker (``folder``/metrics)."""
    (folder / "metrics").mkdir(parents=True, exist_ok=True)
    keys = ("DATABASE_URL", "SECRETS_KEY", "FIRMWARE_DIR", "PHONE_MISS_LIMIT")
    environment = {f"PROVISIONER_{key}": str(app.config[key]) for key in keys if key in app.config}
    environment.update(
        PROVISIONER_INSTANCE=app.instance_path,
        PROVISIONER_LOAD_DEMO_ON_EMPTY="false",
        PROMETHEUS_MULTIPROC_DIR=str(folder / "metrics"),
    )
    return environment


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Flask]]:
    """The demo tenant with a paired Yealink, served by the production command (2 workers)."""
    app = make_app(tmp_path, PHONE_MISS_LIMIT=50)
    import_demo(app)
    pair(app, MAC, "yealink", "T46U")
    get_store(app).dispose()
    port, server = start_production(
        "--workers", "2", app="provisioner:create_app", environment=environment_of(app, tmp_path)
    )
    try:
        yield port, app
    finally:
        stop(server)


def start_serve(environment: dict[str, str]) -> tuple[int, subprocess.Popen[str]]:
    """`provisioner serve` on a free loopback port, configured by ``environment``."""
    server = subprocess.Popen(
        [sys.executable, "-m", "provisioner", "serve", "--http", "127.0.0.1:0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **environment},
    )
    assert server.stdout is not None
    for _ in range(5):
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", server.stdout.readline())
        if found:
            return int(found[1]), server
    server.kill()
    raise AssertionError("provisioner serve did not say where it listens")


def stop_serve(server: subprocess.Popen[str]) -> None:
    server.kill()
    server.communicate(timeout=10)
