"""Benchmark: what FreeSWITCH asks of provisioner, against nginx serving the same answers.

    .venv/bin/python bench/freeswitch_xml.py [--requests 2000] [--concurrency 8]
    .venv/bin/python bench/freeswitch_xml.py --server waitress        # the old in-process setup
    .venv/bin/python bench/freeswitch_xml.py --profile /tmp/xml.txt   # py-spy on the workers

What is measured: by default the production setup, as ``bench/boot_storm.py`` starts it: the
production command (granian, ``--workers``, one per core, with ``--threads`` each) on a PostgreSQL
schema made for the run (``--database-url``) and dropped at the end. ``--server waitress`` instead
serves from this process with waitress (8 threads) on SQLite, as ``provisioner serve`` does; its
server threads then share one interpreter lock with the client threads.

The store holds the demo tenant and a generated tenant of 500 extensions: a registration or a
call must cost the same in both. Each answer is fetched once, and nginx serves those very bytes
as static files, side by side in the same run. Each request is then sent ``--requests`` times
from ``--concurrency`` client threads of this process (keep-alive where the server keeps the
connection, else the client opens a new one), first to
provisioner, then to nginx; every answer's status is checked. The ratio provisioner/nginx is
what to compare between runs: the absolute figures depend on the machine, and the Python
client is a large part of nginx's cost. Needs nginx (Debian: nginx-light), and PostgreSQL and
granian for the default server.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import sys
import tempfile
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from boot_storm import add_server_options, finish_profile, serve, start_profile, stop  # noqa: E402
from loopback import per_second, start_nginx, write_files  # noqa: E402

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
Request = tuple[str, str, dict[str, str] | None]
REQUESTS: dict[str, Request] = {
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


def populate_from(workdir: Path) -> Callable[[Any], None]:
    """What fills an app's store: the demo tenant and the large one (written to ``workdir``)."""
    large = workdir / "large.yaml"
    large.write_text(large_tenant_yaml())

    def populate(app: Any) -> None:
        with get_store(app).transaction() as session:
            for path in (PROJECT / "examples" / "demo.yaml", large):
                import_tenant_file(session, path, "bench", get_secret_box(app))

    return populate


def fetch(port: int, method: str, path: str, form: dict[str, str] | None) -> bytes:
    """One answer, which must be a 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = urllib.parse.urlencode(form) if form else None
    connection.request(method, path, body=body, headers=HEADERS)
    response = connection.getresponse()
    content = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: HTTP {response.status}")
    return content


def load(port: int, request: Request, total: int, concurrency: int) -> float:
    """Requests per second from ``concurrency`` threads, each on its own connection."""
    method, path, form = request
    body = urllib.parse.urlencode(form) if form else None
    failures: list[str] = []

    def client(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(count):
            connection.request(method, path, body=body, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(str(response.status))
        connection.close()

    rate = per_second(client, total, concurrency)
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. HTTP {failures[0]}")
    return rate


def parse_options() -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    add_server_options(parser)
    parser.add_argument(
        "--only", metavar="WORD", default="", help="time only the requests whose label has WORD"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy the server's workers while provisioner is timed"
    )
    return parser.parse_args()


def measure(options: argparse.Namespace, workdir: Path, port: int, server: int | None) -> None:
    """Capture every answer, start nginx on them, then time both and print the table."""
    answers = {
        f"{index}.txt": fetch(port, *request) for index, request in enumerate(REQUESTS.values())
    }
    write_files(workdir / "www", answers)
    nginx_port, nginx = start_nginx(workdir, workdir / "www")
    spy = start_profile(server, Path(options.profile)) if options.profile and server else None
    try:
        print(f"{'request':38} {'provisioner/s':>14} {'nginx/s':>10} {'ratio':>7}")
        for index, (label, request) in enumerate(REQUESTS.items()):
            if options.only not in label:
                continue
            ours = load(port, request, options.requests, options.concurrency)
            reference = load(
                nginx_port, ("GET", f"/{index}.txt", None), options.requests, options.concurrency
            )
            print(f"{label:38} {ours:14.0f} {reference:10.0f} {ours / reference:7.3f}", flush=True)
    finally:
        if spy is not None:
            finish_profile(spy, Path(options.profile))
        stop(nginx)


def main() -> None:
    """Start the chosen server, run the measurement, stop everything."""
    options = parse_options()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" lines are noise
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        served = serve(workdir, options, {"FREESWITCH_TOKEN": TOKEN}, populate_from(workdir))
        print(
            f"server: {served.setup};",
            f"{options.requests} requests x {options.concurrency} clients",
        )
        try:
            measure(options, workdir, served.port, served.pid)
        finally:
            served.stop()


if __name__ == "__main__":
    main()
