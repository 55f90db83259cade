"""The production command serving provisioner with two workers: /metrics counts what every
worker answered, and a stop writes the audit rows and timeline events still queued."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from provisioner.http import production
from provisioner.metrics import TALLY_SECONDS
from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.http.conftest import environment_of, fetch
from tests.http.test_production import start_production, stop
from tests.pairing.test_timeline_writer import AGENT, MAC, paired_headers, releases


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
    # Each worker adds its answers to the shared metrics within TALLY_SECONDS.
    deadline = time.monotonic() + TALLY_SECONDS + 5
    while counted() - before < 20 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counted() - before == 20


def test_a_stop_writes_the_audit_rows_still_queued(tmp_path: Path) -> None:
    # The workers' writers would wait an hour: only their exit can write the rows.
    app = make_app(tmp_path, ALLOW_BASIC_OVER_HTTP=True, PHONE_TIMELINE_FLUSH_SECONDS=3600)
    import_demo(app)
    headers = paired_headers(app)
    before = releases(app)
    environment = environment_of(app, tmp_path)
    environment.update(
        PROVISIONER_ALLOW_BASIC_OVER_HTTP="true", PROVISIONER_PHONE_TIMELINE_FLUSH_SECONDS="3600"
    )
    port, server = start_production(
        "--workers", "2", app="provisioner:create_app", environment=environment
    )
    try:
        request = (
            f"GET /p/a/{MAC}.cfg HTTP/1.1\r\nHost: x\r\nUser-Agent: {AGENT}\r\n"
            f"Authorization: {headers['Authorization']}\r\n\r\n"
        ).encode()
        for _ in range(4):
            assert fetch(port, request)[0].startswith(b"HTTP/1.1 200")
        os.kill(server.pid, signal.SIGTERM)
        assert server.wait(timeout=production.STOP_SECONDS + 10) == 0
    finally:
        stop(server)
    assert releases(app) == before + 4
    get_store(app).dispose()
