"""Benchmark: phones fetching their files from provisioner, against nginx serving the same bytes.

    .venv/bin/python bench/phones_http.py [--requests 2000] [--concurrency 8]
    .venv/bin/python bench/phones_http.py --server waitress        # the old in-process setup
    .venv/bin/python bench/phones_http.py --profile /tmp/phones.txt  # py-spy on the workers

What is measured: by default the production setup, as ``bench/boot_storm.py`` starts it:
the production command (granian, ``--workers``, one per core, with ``--threads`` each) on a
PostgreSQL schema made for the run (``--database-url``) and dropped at the end, Redis for the shared
rate limits (``--redis-url``, a key prefix of its own). ``--server waitress`` instead serves
from this process with waitress (8 threads) on SQLite, as ``provisioner serve`` does; its
server threads then share one interpreter lock with the client threads.

The store holds the demo tenant and one paired phone. Three kinds of request: a common file (no
store access), the bootstrap for an unknown MAC (a store lookup), and the paired phone's full
file on ``/p/a/`` with Basic credentials (lookup, decryption, audit, timeline). Each answer is
fetched once, and nginx serves those very bytes as static files, side by side in the same run.

On PostgreSQL each worker keeps a MAC's lookup once it follows the store's change notices
(``provisioner/store/notices.py``), which it starts on its first phone request; so each
request is first sent ``--warm-up`` times, untimed, to every server. Then it is sent
``--requests`` times from ``--concurrency`` keep-alive client threads of this process, first to
provisioner, then to nginx; every answer's status is checked. The ratio provisioner/nginx is
what to compare between runs: the absolute figures depend on the machine, and the Python client
is a large part of nginx's cost. Needs nginx (Debian: nginx-light), and PostgreSQL, Redis and
granian for the default server.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.client
import logging
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from boot_storm import (  # noqa: E402
    DEFAULT_REDIS,
    Served,
    add_server_options,
    finish_profile,
    serve,
    start_profile,
    stop,
)
from loopback import per_second, start_nginx, write_files  # noqa: E402

from provisioner.pairing import service  # noqa: E402
from provisioner.security.secrets import get_secret_box  # noqa: E402
from provisioner.store import get_store  # noqa: E402
from provisioner.tenants.yaml_io import import_tenant_file  # noqa: E402

MAC = "805ec0123456"
AGENT = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"
SETTINGS = {
    "PHONE_MISS_LIMIT": 0,  # the bench asks for unknown MACs on purpose
    "ALLOW_BASIC_OVER_HTTP": True,  # the full file is fetched with Basic over loopback
}


def pair_demo_phone(app: Any, login: dict[str, str]) -> None:
    """Import the demo tenant, pair ``MAC`` to extension 240 as a deployed phone (its
    first-use window closed, as in a storm after a power cut), put its Authorization in
    ``login``."""
    box = get_secret_box(app)
    with get_store(app).transaction() as session:
        import_tenant_file(session, PROJECT / "examples" / "demo.yaml", "bench", box)
        service.pair(session, box, "demo", MAC, "240", "bench", 0)
    with get_store(app).transaction() as session:
        credential = service.reveal_credential(session, box, "demo", MAC, "bench")
    token = base64.b64encode(f"{credential['username']}:{credential['password']}".encode())
    login["Authorization"] = f"Basic {token.decode()}"


def fetch(port: int, path: str, headers: dict[str, str]) -> bytes:
    """One request on a fresh connection (used to capture the answers for nginx)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"User-Agent": AGENT, **headers})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}")
    return body


def hammer(port: int, path: str, headers: dict[str, str], requests: int, threads: int) -> float:
    """Requests per second for ``requests`` keep-alive GETs spread over ``threads`` clients."""
    failures: list[int] = []

    def client(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(count):
            connection.request("GET", path, headers={"User-Agent": AGENT, **headers})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
        connection.close()

    rate = per_second(client, requests, threads)
    if failures:
        raise SystemExit(f"{path}: {len(failures)} failed requests, e.g. HTTP {failures[0]}")
    return rate


def parse_options() -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--warm-up", type=int, default=400, help="untimed requests per case and server first"
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy the server's workers while provisioner is timed"
    )
    add_server_options(parser)
    return parser.parse_args()


def settings_for(options: argparse.Namespace) -> dict[str, Any]:
    """The app's settings: Redis for the shared rate limits across workers, as in production."""
    if options.server == "waitress":
        return dict(SETTINGS)
    prefix = f"bench:{uuid.uuid4().hex[:8]}:misses"
    return dict(SETTINGS, REDIS_URL=options.redis_url, RATE_LIMIT_PREFIX=prefix)


def timed(options: argparse.Namespace, served: Served, path: str, headers: dict[str, str]) -> float:
    """Provisioner's rate for one request, py-spy on the workers meanwhile with ``--profile``."""
    output = Path(options.profile) if options.profile and served.pid else None
    spy = start_profile(served.pid, output) if output and served.pid else None
    try:
        return hammer(served.port, path, headers, options.requests, options.concurrency)
    finally:
        if spy is not None and output is not None:
            print(f"profile of {path}:")
            finish_profile(spy, output)


def measure(
    options: argparse.Namespace, folder: Path, served: Served, login: dict[str, str]
) -> None:
    """Capture every answer, start nginx on them, then warm up and time both; print the table."""
    cases = {
        "common file": ("/p/y000000000000.cfg", "p/y000000000000.cfg", {}),
        "bootstrap, unknown MAC": ("/p/805ec0999999.cfg", "p/805ec0999999.cfg", {}),
        "full file, Basic": (f"/p/a/{MAC}.cfg", f"p/a/{MAC}.cfg", login),
    }
    files = {static: fetch(served.port, path, headers) for path, static, headers in cases.values()}
    write_files(folder / "root", files)
    nginx_port, nginx = start_nginx(folder, folder / "root")
    try:
        print(f"{'request':<24}{'provisioner/s':>15}{'nginx/s':>12}{'ratio':>8}")
        for label, (path, static, headers) in cases.items():
            hammer(served.port, path, headers, options.warm_up, options.concurrency)
            hammer(nginx_port, "/" + static, {}, options.warm_up, options.concurrency)
            ours = timed(options, served, path, headers)
            theirs = hammer(nginx_port, "/" + static, {}, options.requests, options.concurrency)
            print(f"{label:<24}{ours:>15.0f}{theirs:>12.0f}{ours / theirs:>8.3f}", flush=True)
    finally:
        stop(nginx)


def main() -> None:
    """Start the chosen server and nginx, hit every path on each, print the rates and ratios."""
    options = parse_options()
    logging.getLogger("waitress").setLevel(logging.ERROR)  # "task queue depth" at full load
    if shutil.which("nginx") is None:
        raise SystemExit("nginx is needed for the reference (Debian: nginx-light)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        login: dict[str, str] = {}
        populate = functools.partial(pair_demo_phone, login=login)
        served = serve(folder, options, settings_for(options), populate)
        print(
            f"server: {served.setup};",
            f"{options.requests} requests x {options.concurrency} clients",
        )
        try:
            measure(options, folder, served, login)
        finally:
            served.stop()


if __name__ == "__main__":
    main()
