"""The production command, serving provisioner on SQLite with two workers, while slow-sending
and idle clients hold connections: a phone still gets its file within 1 s, and /metrics
counts what every worker answered.

A slow client sends a GET's headers one byte every 2 s; an idle one connects and says nothing;
the server closes both after its header time and they connect again at once, as an attacker
would. The counts are the issue's (500 slow, 2,500 idle) when this process may open enough
files, else scaled down to fit (``attack_sizes``)."""

from __future__ import annotations

import resource
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.http.test_production import start_production, stop
from tests.phones.conftest import pair

MAC = "805ec0123456"
AGENT = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"
PHONE_FILE = f"GET /p/{MAC}.cfg HTTP/1.1\r\nHost: x\r\nUser-Agent: {AGENT}\r\n\r\n".encode()
SLOW_REQUEST = b"GET /p/y000000000000.cfg HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200


def attack_sizes(slow: int = 500, idle: int = 2500) -> tuple[int, int]:
    """The issue's counts, or as many as this process's file limit allows (same shares)."""
    room = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 300
    if slow + idle <= room:
        return slow, idle
    return slow * room // (slow + idle), idle * room // (slow + idle)


class Attack:
    """Slow and idle connections held against ``port`` by a thread; closed ones reopened."""

    def __init__(self, port: int, slow: int, idle: int) -> None:
        self.port = port
        self.slow: list[tuple[socket.socket | None, int]] = [(None, 0)] * slow
        self.idle: list[socket.socket | None] = [None] * idle
        self.reopened = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.hold, daemon=True)

    def __enter__(self) -> Attack:
        self.idle = [self.connect() for _ in self.idle]
        self.slow = [(self.connect(), 0) for _ in self.slow]
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        for connection in [*self.idle, *(connection for connection, _ in self.slow)]:
            if connection is not None:
                connection.close()

    def connect(self) -> socket.socket | None:
        try:
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        except OSError:
            return None
        connection.setblocking(False)
        return connection

    def hold(self) -> None:
        while not self.stopping.wait(2.0):
            self.slow = [self.one_more_byte(*state) for state in self.slow]
            for index in self.closed_idle():
                if self.idle[index] is not None:
                    self.idle[index].close()  # type: ignore[union-attr]
                self.idle[index] = self.connect()
                self.reopened += 1

    def one_more_byte(self, connection: socket.socket | None, sent: int) -> tuple[object, int]:
        if connection is not None and sent < len(SLOW_REQUEST):
            try:
                connection.send(SLOW_REQUEST[sent : sent + 1])
                return connection, sent + 1
            except OSError:
                connection.close()
        self.reopened += 1
        return self.connect(), 0

    def closed_idle(self) -> list[int]:
        watching = selectors.DefaultSelector()
        closed = [index for index, connection in enumerate(self.idle) if connection is None]
        for index, connection in enumerate(self.idle):
            if connection is not None:
                watching.register(connection, selectors.EVENT_READ, index)
        closed += [key.data for key, _ in watching.select(timeout=0)]
        watching.close()
        return closed


def fetch(port: int, request: bytes = PHONE_FILE) -> tuple[bytes, float]:
    """One request on a new connection, as phones send it: (answer, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received, time.monotonic() - started


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Flask]]:
    """The demo tenant with a paired Yealink, served by the production command (2 workers)."""
    app = make_app(tmp_path, PHONE_MISS_LIMIT=50)
    import_demo(app)
    pair(app, MAC, "yealink", "T46U")
    get_store(app).dispose()
    (tmp_path / "metrics").mkdir()
    environment = {
        f"PROVISIONER_{key}": str(app.config[key])
        for key in ("DATABASE_URL", "SECRETS_KEY", "FIRMWARE_DIR", "PHONE_MISS_LIMIT")
    }
    environment.update(
        PROVISIONER_INSTANCE=app.instance_path,
        PROVISIONER_LOAD_DEMO_ON_EMPTY="false",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    port, server = start_production(
        "--workers", "2", app="provisioner:create_app", environment=environment
    )
    try:
        yield port, app
    finally:
        stop(server)


def test_a_phone_gets_its_file_within_a_second_under_slow_and_idle_clients(
    served: tuple[int, Flask],
) -> None:
    port, _ = served
    expected, _ = fetch(port)
    assert expected.startswith(b"HTTP/1.1 200") and MAC.encode() in expected
    slow, idle = attack_sizes()
    with Attack(port, slow, idle) as attack:
        deadline = time.monotonic() + 8  # past the header time: closed ones come back
        times = []
        while time.monotonic() < deadline:
            answer, seconds = fetch(port)
            assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 200 OK"
            assert len(answer.partition(b"\r\n\r\n")[2]) == len(expected.partition(b"\r\n\r\n")[2])
            times.append(seconds)
            time.sleep(0.5)
        assert attack.reopened >= slow  # the server closed them after its header time
    assert len(times) >= 5
    assert max(times) < 1.0, times


def test_metrics_count_every_workers_answers(served: tuple[int, Flask]) -> None:
    port, _ = served

    def counted() -> float:
        answer, _ = fetch(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        text = answer.partition(b"\r\n\r\n")[2].decode()
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "provisioner_phone_requests_total"
        )

    before = counted()
    for _ in range(20):  # new connections: the two workers take turns as they accept
        assert fetch(port)[0].startswith(b"HTTP/1.1 200")
    assert counted() - before == 20
