"""Benchmark: what FreeSWITCH asks of provisioner, against nginx serving the same answers.

    .venv/bin/python bench/freeswitch_xml.py [--requests 2000] [--concurrency 8]

Serves the demo tenant with waitress (as ``provisioner serve`` does) and, side by side in the
same run, nginx serving the very same answer bytes as static files. Each endpoint is hit with
the same number of keep-alive requests from the same client threads; the ratio
provisioner/nginx is what to compare between runs (absolute numbers depend on the machine).
Needs nginx (Debian: nginx-light).
"""

from __future__ import annotations

import argparse
import http.client
import logging
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet
from waitress.server import create_server

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from loopback import start_nginx, write_files  # noqa: E402

from provisioner import create_app  # noqa: E402
from provisioner.security.secrets import get_secret_box  # noqa: E402
from provisioner.store import get_store  # noqa: E402
from provisioner.tenants.yaml_io import import_tenant_file  # noqa: E402

TOKEN = "bench-token-0123456789"
DOMAIN = "demo.sip.example.net"
# A second, larger tenant: a registration or a call must cost the same in a tenant of 500
# extensions as in the demo's four.
LARGE_DOMAIN = "groot.sip.example.net"
LARGE_EXTENSIONS = 500
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-www-form-urlencoded"}
REQUESTS = {
    "directory sip_auth": (
        "POST",
        "/freeswitch/xml",
        {"section": "directory", "domain": DOMAIN, "user": "240", "action": "sip_auth"},
    ),
    f"directory sip_auth ({LARGE_EXTENSIONS} ext.)": (
        "POST",
        "/freeswitch/xml",
        {"section": "directory", "domain": LARGE_DOMAIN, "user": "450", "action": "sip_auth"},
    ),
    "dialplan (tenant context)": (
        "POST",
        "/freeswitch/xml",
        {"section": "dialplan", "Hunt-Context": DOMAIN, "Hunt-Destination-Number": "5000"},
    ),
    f"dialplan (tenant context, {LARGE_EXTENSIONS} ext.)": (
        "POST",
        "/freeswitch/xml",
        {"section": "dialplan", "Hunt-Context": LARGE_DOMAIN, "Hunt-Destination-Number": "450"},
    ),
    "dialplan (public, 0202103356)": (
        "POST",
        "/freeswitch/xml",
        {"section": "dialplan", "Hunt-Context": "public", "Hunt-Destination-Number": "0202103356"},
    ),
    "callcenter.conf": (
        "POST",
        "/freeswitch/xml",
        {"section": "configuration", "key_value": "callcenter.conf"},
    ),
    "route JSON (handler)": ("GET", "/freeswitch/flows/demo/5000", None),
}


def large_tenant_yaml() -> str:
    """A tenant file with ``LARGE_EXTENSIONS`` extensions, 200 upwards."""
    lines = [f"name: groot\nsip_domain: {LARGE_DOMAIN}\nextensions:"]
    lines += [
        f'  - {{number: "{number}", name: Collega {number}}}'
        for number in range(200, 200 + LARGE_EXTENSIONS)
    ]
    return "\n".join(lines) + "\n"


def start_provisioner(workdir: Path) -> tuple[int, Callable[[], None]]:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "SECRETS_KEY": Fernet.generate_key().decode(),
            "LOAD_DEMO_ON_EMPTY": False,
            "FREESWITCH_TOKEN": TOKEN,
        },
        instance_path=str(workdir / "instance"),
    )
    large = workdir / "large.yaml"
    large.write_text(large_tenant_yaml())
    with get_store(app).transaction() as session:
        import_tenant_file(
            session, PROJECT / "examples" / "demo.yaml", "bench", get_secret_box(app)
        )
        import_tenant_file(session, large, "bench", get_secret_box(app))
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return int(server.effective_port), server.close


def fetch(port: int, method: str, path: str, form: dict[str, str] | None) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = urllib.parse.urlencode(form) if form else None
    connection.request(method, path, body=body, headers=HEADERS)
    response = connection.getresponse()
    content = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: HTTP {response.status}")
    return content


def load(
    port: int, method: str, path: str, form: dict[str, str] | None, total: int, concurrency: int
) -> float:
    """Requests per second over ``concurrency`` keep-alive connections."""
    body = urllib.parse.urlencode(form) if form else None
    per_thread = total // concurrency
    failures: list[str] = []

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(per_thread):
            connection.request(method, path, body=body, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(str(response.status))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. HTTP {failures[0]}")
    return per_thread * concurrency / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    arguments = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" lines are noise
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        port, stop_provisioner = start_provisioner(workdir)
        answers = {
            f"{index}.txt": fetch(port, *request) for index, request in enumerate(REQUESTS.values())
        }
        write_files(workdir / "www", answers)
        nginx_port, nginx = start_nginx(workdir, workdir / "www")
        try:
            print(f"{'request':38} {'provisioner/s':>14} {'nginx/s':>10} {'ratio':>7}")
            for index, (label, request) in enumerate(REQUESTS.items()):
                ours = load(port, *request, arguments.requests, arguments.concurrency)
                reference = load(
                    nginx_port,
                    "GET",
                    f"/{index}.txt",
                    None,
                    arguments.requests,
                    arguments.concurrency,
                )
                print(f"{label:38} {ours:14.0f} {reference:10.0f} {ours / reference:7.3f}")
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
            stop_provisioner()


if __name__ == "__main__":
    main()
