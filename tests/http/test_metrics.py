"""/metrics: Prometheus' text format, guarded by an allowlist or a token, counting boots;
scraped by Debian's real prometheus over loopback."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.phones.conftest import pair, serve

MAC = "805ec0123456"
AGENT = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"


@pytest.fixture
def metrics_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path, PHONE_MISS_LIMIT=50, METRICS_TOKEN="scrape-token-0123")
    import_demo(app)
    yield app
    get_store(app).dispose()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests_counted(text: str, answer: str) -> float:
    key = ("provisioner_phone_requests_total", (("answer", answer), ("protocol", "http")))
    return samples(text).get(key, 0.0)


def test_loopback_may_read_the_metrics_others_need_the_token(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client asks from 127.0.0.1
    outside = {"REMOTE_ADDR": "192.0.2.10"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    wrong = {"Authorization": "Bearer scrape-token-9999"}
    assert client.get("/metrics", environ_base=outside, headers=wrong).status_code == 403
    right = {"Authorization": "Bearer scrape-token-0123"}
    answer = client.get("/metrics", environ_base=outside, headers=right)
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain; version=0.0.4")


def test_a_boot_moves_the_answer_counters(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    before = client.get("/metrics").data.decode()
    pair(metrics_app, MAC, "yealink", "T46U")
    for name in (f"{MAC}.boot", "y000000000000.cfg", f"{MAC}.cfg"):
        assert client.get(f"/p/{name}", headers={"User-Agent": AGENT}).status_code == 200
    client.get("/p/805ec0999999.cfg", headers={"User-Agent": AGENT})  # never seen: bootstrap
    client.get("/p/nothing-we-know.txt")  # no vendor asks for it
    after = client.get("/metrics").data.decode()
    for answer, more in (("common", 2), ("full", 1), ("bootstrap", 1), ("not_found", 1)):
        assert requests_counted(after, answer) - requests_counted(before, answer) == more, answer
    released = ("provisioner_secrets_released_total", (("via", "phone"),))
    assert samples(after)[released] - samples(before).get(released, 0.0) == 1
    histogram = ("provisioner_phone_render_seconds_count", (("protocol", "http"),))
    assert samples(after)[histogram] - samples(before).get(histogram, 0.0) == 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prometheus_value(port: int, query: str) -> float | None:
    """The value of an instant query to the Prometheus at ``port``, None before it has one."""
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            result = json.load(answer)["data"]["result"]
    except OSError:
        return None
    return float(result[0]["value"][1]) if result else None


def wait_for_value(port: int, query: str, wanted: float, seconds: float = 20) -> float | None:
    """Poll Prometheus until ``query`` reaches ``wanted`` (bounded); the last value seen."""
    deadline = time.monotonic() + seconds
    value = None
    while time.monotonic() < deadline:
        value = prometheus_value(port, query)
        if value is not None and value >= wanted:
            return value
        time.sleep(0.2)
    return value


@pytest.mark.skipif(
    shutil.which("prometheus") is None,
    reason="Debian's prometheus is not installed (scripts/apt-packages lists it)",
)
def test_real_prometheus_scrapes_the_counters_as_phones_boot(
    metrics_app: Flask, tmp_path: Path
) -> None:
    url, thread, server = serve(metrics_app)
    target = urllib.parse.urlparse(url).netloc
    port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: provisioner\n    static_configs: [{{targets: ['{target}']}}]\n"
    )
    prometheus = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The series the start was read from (earlier tests in this process may have TFTP ones).
    query = 'sum(provisioner_phone_requests_total{answer="full",protocol="http",job="provisioner"})'
    try:
        client = metrics_app.test_client()
        pair(metrics_app, MAC, "yealink", "T46U")
        scraped = wait_for_value(port, 'up{job="provisioner"}', 1)
        assert scraped == 1, f"prometheus did not scrape {target}: {scraped}"
        # (a counter no request has moved yet has no series: prometheus then shows none)
        start = requests_counted(client.get("/metrics").data.decode(), "full")
        request = urllib.request.Request(f"{url}/p/{MAC}.cfg", headers={"User-Agent": AGENT})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        assert wait_for_value(port, query, start + 1) == start + 1
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=20)
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)
