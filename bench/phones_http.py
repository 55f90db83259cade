"""Benchmark: phones fetching their files from provisioner, against nginx serving the same bytes.

    .venv/bin/python bench/phones_http.py [--requests 2000] [--concurrency 8]

Serves the demo tenant with waitress (as ``provisioner serve`` does) and, side by side in the
same run, nginx serving the very same answers as static files. Three kinds of request: a
common file (no store access), the bootstrap for an unknown MAC (a store lookup), and a paired
phone's full file on ``/p/a/`` with Basic credentials (lookup, decryption, audit, timeline).
Each is hit with the same number of keep-alive requests from the same client threads; compare
the ratio provisioner/nginx between runs, not the absolute numbers. Needs nginx.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import logging
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from cryptography.fernet import Fernet
from waitress.server import create_server

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from loopback import per_second, start_nginx, write_files  # noqa: E402

from provisioner import create_app  # noqa: E402
from provisioner.pairing import service  # noqa: E402
from provisioner.security.secrets import get_secret_box  # noqa: E402
from provisioner.store import get_store  # noqa: E402
from provisioner.tenants.yaml_io import import_tenant_file  # noqa: E402

MAC = "805ec0123456"
AGENT = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"


def start_provisioner(folder: Path) -> tuple[int, dict[str, str], object]:
    """The demo tenant on waitress; returns its port, the Authorization header, the server."""
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "SECRETS_KEY": Fernet.generate_key().decode(),
            "LOAD_DEMO_ON_EMPTY": False,
            "PHONE_MISS_LIMIT": 0,  # the bench asks for unknown MACs on purpose
            "ALLOW_BASIC_OVER_HTTP": True,  # the full file is fetched with Basic over loopback
        },
        instance_path=str(folder / "instance"),
    )
    box = get_secret_box(app)
    with get_store(app).transaction() as session:
        import_tenant_file(session, PROJECT / "examples" / "demo.yaml", "bench", box)
        service.pair(session, box, "demo", MAC, "240", "bench", 30)
    with get_store(app).transaction() as session:
        login = service.reveal_credential(session, box, "demo", MAC, "bench")
    token = base64.b64encode(f"{login['username']}:{login['password']}".encode()).decode()
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return int(server.effective_port), {"Authorization": f"Basic {token}"}, server


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

    def client(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(count):
            connection.request("GET", path, headers={"User-Agent": AGENT, **headers})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, (path, response.status)
        connection.close()

    return per_second(client, requests, threads)


def main() -> None:
    """Run both servers, hit every path on each, print requests per second and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    options = parser.parse_args()
    logging.getLogger("waitress").setLevel(logging.ERROR)  # "task queue depth" at full load
    if shutil.which("nginx") is None:
        raise SystemExit("nginx is needed for the reference (Debian: nginx-light)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        port, login, server = start_provisioner(folder)
        cases = {
            "common file": ("/p/y000000000000.cfg", "p/y000000000000.cfg", {}),
            "bootstrap, unknown MAC": ("/p/805ec0999999.cfg", "p/805ec0999999.cfg", {}),
            "full file, Basic": (f"/p/a/{MAC}.cfg", f"p/a/{MAC}.cfg", login),
        }
        files = {static: fetch(port, path, headers) for path, static, headers in cases.values()}
        write_files(folder / "root", files)
        nginx_port, nginx = start_nginx(folder, folder / "root")
        try:
            print(f"{'request':<24}{'provisioner/s':>15}{'nginx/s':>12}{'ratio':>8}")
            for label, (path, static, headers) in cases.items():
                ours = hammer(port, path, headers, options.requests, options.concurrency)
                theirs = hammer(nginx_port, "/" + static, {}, options.requests, options.concurrency)
                print(f"{label:<24}{ours:>15.0f}{theirs:>12.0f}{ours / theirs:>8.3f}")
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
            server.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
