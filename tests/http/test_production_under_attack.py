"""The production command (two workers) and `provisioner serve`, serving provisioner on
SQLite while slow-sending and idle clients hold connections: a phone still gets its file
within 1 s.

A slow client sends a GET's headers one byte every 2 s; an idle one connects and says nothing; the
server closes both after its header time and they connect again at once, as an attacker would
(`provisioner serve` closes neither; it holds them all without a thread). The counts are the issue's
(500 slow, 2,500 idle) when this process may open enough files, else scaled down to fit
(``attack_sizes``)."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.http.attack import Attack
from tests.http.conftest import MAC, environment_of, fetch, start_serve, stop_serve
from tests.phones.conftest import pair


def attack_sizes(slow: int = 500, idle: int = 2500) -> tuple[int, int]:
    """The issue's counts, or as many as this process's file limit allows (same shares)."""
    room = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 300
    if slow + idle <= room:
        return slow, idle
    return slow * room // (slow + idle), idle * room // (slow + idle)


@pytest.fixture(params=["production", "serve"])
def attacked(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[int, bool]]:
    """The port of the production command or of `provisioner serve`, with the demo tenant
    and a paired Yealink, and whether it closes clients slow to send their headers."""
    if request.param == "production":
        yield request.getfixturevalue("served")[0], True
        return
    app = make_app(tmp_path, PHONE_MISS_LIMIT=50)
    import_demo(app)
    pair(app, MAC, "yealink", "T46U")
    get_store(app).dispose()
    port, server = start_serve(environment_of(app, tmp_path))
    try:
        yield port, False
    finally:
        stop_serve(server)


def test_a_phone_gets_its_file_within_a_second_under_slow_and_idle_clients(
    attacked: tuple[int, bool],
) -> None:
    port, closes_slow_clients = attacked
    expected, _ = fetch(port)
    assert expected.startswith(b"HTTP/1.1 200") and MAC.encode() in expected
    slow, idle = attack_sizes()
    with Attack(port, slow, idle) as attack:
        assert attack.in_place.wait(timeout=60)
        deadline = time.monotonic() + 8  # past the header time: closed ones come back
        times = []
        while time.monotonic() < deadline:
            answer, seconds = fetch(port)
            assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 200 OK"
            assert len(answer.partition(b"\r\n\r\n")[2]) == len(expected.partition(b"\r\n\r\n")[2])
            times.append(seconds)
            time.sleep(0.5)
        if closes_slow_clients:
            assert attack.reopened >= slow  # closed after the header time, and opened again
    assert len(times) >= 5
    assert max(times) < 1.0, times
