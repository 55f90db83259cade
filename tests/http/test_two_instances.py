"""Two instances of the production command (separate processes on their own ports, as two
hosts would be) behind a real nginx as the load balancer, sharing PostgreSQL and Redis: a
change made through one is answered by the other within 1 s (the store's change notices), and
the phones' miss limit counts across both (Redis)."""

from __future__ import annotations

import http.client
import re
import shutil
import socket
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from lxml import etree

from provisioner.routing.directory import a1_hash
from provisioner.store import get_store
from tests.conftest import import_demo, make_app, token_for
from tests.http.conftest import environment_of, fetch
from tests.http.test_freeswitch import DOMAIN, TOKEN, basic, sip_auth
from tests.http.test_metrics import free_port
from tests.http.test_production import start_production, stop
from tests.http.test_reverse_proxy import wait_for_nginx

MISS_LIMIT = 10
SIGN_IN_LIMIT = 10
CLIENTS = 8  # threads sending one address's requests at once, to both instances

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx (nginx-light)"),
]


def start_balancer(folder: Path, upstreams: list[int]) -> tuple[int, object]:
    """nginx on a free loopback port, taking turns between ``upstreams`` (round robin)."""
    import subprocess

    folder.mkdir()
    folder.chmod(0o755)
    port = free_port()
    servers = " ".join(f"server 127.0.0.1:{upstream};" for upstream in upstreams)
    (folder / "nginx.conf").write_text(
        f"daemon off; worker_processes 1; pid {folder}/nginx.pid;"
        f" error_log {folder}/error.log error;\n"
        "events { worker_connections 256; }\n"
        f"http {{ access_log off; client_body_temp_path {folder}/body;"
        f" proxy_temp_path {folder}/proxy;\n"
        f"  upstream provisioner {{ {servers} }}\n"
        f"  server {{ listen 127.0.0.1:{port};\n"
        "    location / { proxy_pass http://provisioner;\n"
        "      proxy_set_header Host $host;\n"
        "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; } } }\n"
    )
    nginx = subprocess.Popen(["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder)])
    wait_for_nginx(port, nginx)
    return port, nginx


@pytest.fixture
def instances(tmp_path: Path, postgres_url: str) -> Iterator[tuple[Flask, list[int], int]]:
    """The demo tenant on PostgreSQL; two instances' ports and the balancer's port."""
    app = make_app(
        tmp_path,
        postgres_url,
        FREESWITCH_TOKEN=TOKEN,
        REDIS_URL="redis://127.0.0.1:6379/0",
        RATE_LIMIT_PREFIX=f"test:{uuid.uuid4().hex}",
        PHONE_MISS_LIMIT=MISS_LIMIT,
    )
    import_demo(app)
    get_store(app).dispose()
    started = []
    try:
        for number in range(2):
            environment = environment_of(app, tmp_path / f"host-{number}")
            environment.update(
                PROVISIONER_FREESWITCH_TOKEN=TOKEN,
                PROVISIONER_REDIS_URL=app.config["REDIS_URL"],
                PROVISIONER_RATE_LIMIT_PREFIX=app.config["RATE_LIMIT_PREFIX"],
                PROVISIONER_PROXY_HOPS="1",
                PROVISIONER_TECHNICIAN_SIGN_IN_LIMIT=str(SIGN_IN_LIMIT),
            )
            started.append(start_production(app="provisioner:create_app", environment=environment))
        balancer, nginx = start_balancer(tmp_path / "nginx", [port for port, _ in started])
        try:
            yield app, [port for port, _ in started], balancer
        finally:
            nginx.terminate()  # type: ignore[attr-defined]
            nginx.wait(timeout=10)  # type: ignore[attr-defined]
    finally:
        for _, server in started:
            stop(server)
        get_store(app).dispose()


def directory_hash(port: int) -> str:
    """The a1-hash the instance on ``port`` answers FreeSWITCH for extension 240."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/freeswitch/xml",
        data=urllib.parse.urlencode(sip_auth("240")).encode(),
        headers=basic(),
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        document = etree.fromstring(response.read())
    return str(document.find(".//param[@name='a1-hash']").get("value"))


def test_a_change_through_one_instance_is_answered_by_the_other_within_a_second(
    instances: tuple[Flask, list[int], int],
) -> None:
    app, (first, second), _ = instances
    before = directory_hash(second)
    assert directory_hash(second) == before  # now kept by the second instance
    request = urllib.request.Request(
        f"http://127.0.0.1:{first}/api/v1/tenants/demo/extensions/240",
        data=b'{"sip_password": "Nieuw-wachtwoord-2026"}',
        headers={
            "Authorization": f"Bearer {token_for(app, 'admin')}",
            "Content-Type": "application/json",
        },
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    changed = time.monotonic()
    wanted = a1_hash("240", DOMAIN, "Nieuw-wachtwoord-2026")
    while directory_hash(second) != wanted and time.monotonic() - changed < 5:
        time.sleep(0.01)
    assert time.monotonic() - changed < 1.0


def test_the_miss_limit_counts_across_both_instances(
    instances: tuple[Flask, list[int], int],
) -> None:
    _, ports, balancer = instances
    common = b"GET /p/y000000000000.cfg HTTP/1.1\r\nHost: x\r\n\r\n"  # no miss
    assert all(fetch(port, common)[0][9:12] == b"200" for port in ports)
    for index in range(MISS_LIMIT):  # nginx sends them to each instance in turn: half each
        guess = f"GET /p/guess-{index}.cfg HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        assert fetch(balancer, guess)[0][9:12] == b"404"
    # Neither instance saw the limit's worth of misses itself; both throttle within 1 s.
    counted = time.monotonic()
    throttled: set[int] = set()
    while len(throttled) < 2 and time.monotonic() - counted < 5:
        throttled |= {port for port in ports if fetch(port, common)[0][9:12] == b"429"}
    assert throttled == set(ports)
    assert time.monotonic() - counted < 1.0
    # Another address is not held back by this one's misses.
    with socket.create_connection(("127.0.0.1", balancer), 10, ("127.0.0.7", 0)) as connection:
        connection.sendall(common.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        assert connection.recv(12)[9:12] == b"200"


def answered_at_once(ports: list[int], requests: list[bytes]) -> list[bytes]:
    """The status codes of ``requests``, sent CLIENTS at a time to the instances in turn."""
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = pool.map(
            lambda indexed: fetch(ports[indexed[0] % len(ports)], indexed[1])[0][9:12],
            enumerate(requests),
        )
        return list(answers)


def test_both_instances_answer_no_more_misses_than_the_limit_when_guesses_come_at_once(
    instances: tuple[Flask, list[int], int],
) -> None:
    _, ports, _ = instances
    guesses = [
        f"GET /p/001565{index:06x}.cfg HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        for index in range(6 * MISS_LIMIT)
    ]  # unknown Yealink MACs: each a bootstrap (200) and a miss
    statuses = answered_at_once(ports, guesses)
    assert statuses.count(b"200") == MISS_LIMIT
    assert statuses.count(b"429") == len(guesses) - MISS_LIMIT


def sign_in_with(port: int, token: str) -> bytes:
    """A sign-in with ``token`` on its own session (the form's cookie and CSRF token)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/t/sign-in")
        form = connection.getresponse()
        cookie = (form.getheader("Set-Cookie") or "").split(";")[0]
        found = re.search(r'name="csrf_token" value="([^"]+)"', form.read().decode())
        assert found is not None
        body = urllib.parse.urlencode({"token": token, "csrf_token": found.group(1)})
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", "/t/sign-in", body, headers)
        answer = connection.getresponse()
        answer.read()
        return str(answer.status).encode()
    finally:
        connection.close()


def test_both_instances_check_no_more_sign_ins_than_the_limit_when_tries_come_at_once(
    instances: tuple[Flask, list[int], int],
) -> None:
    app, ports, _ = instances
    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(
            pool.map(
                lambda index: sign_in_with(ports[index % 2], f"prov_wrong{index}"),
                range(3 * SIGN_IN_LIMIT),
            )
        )
    assert statuses.count(b"401") == SIGN_IN_LIMIT  # checked, and refused
    assert statuses.count(b"429") == 2 * SIGN_IN_LIMIT  # not checked
    # A right token from another address is not held back; from this one, it waits too.
    assert sign_in_with(ports[0], token_for(app, "technician")) == b"429"
