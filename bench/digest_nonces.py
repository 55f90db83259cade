"""Benchmark: what replay protection costs a Digest fetch, against Basic in the same run.

    .venv/bin/python bench/digest_nonces.py [--requests 1000] [--concurrency 4] [--redis URL]

Serves the demo tenant with waitress (as ``provisioner serve`` does, SQLite) and fetches a
paired phone's full file on ``/p/a/`` from keep-alive clients: with Basic (the reference: no
nonce is recorded) and with Digest, every request answering the client's nonce with the next
nonce count, so each one records a nonce use (in the database, or in Redis with ``--redis``).
Prints requests per second and the ratio Digest/Basic; compare ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import logging
import re
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from loopback import per_second  # noqa: E402

from provisioner import create_app  # noqa: E402
from provisioner.http.framing import create_waitress_server  # noqa: E402
from provisioner.pairing import service  # noqa: E402
from provisioner.security.secrets import get_secret_box  # noqa: E402
from provisioner.store import get_store  # noqa: E402
from provisioner.tenants.yaml_io import import_tenant_file  # noqa: E402

MAC = "805ec0123456"
PATH = f"/p/a/{MAC}.cfg"
AGENT = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"
Headers = Callable[[http.client.HTTPConnection], dict[str, str]]


def start(folder: Path, redis_url: str | None) -> tuple[int, dict[str, str], object]:
    """The demo tenant with one paired phone on waitress; its port, login and the server."""
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "SECRETS_KEY": Fernet.generate_key().decode(),
            "LOAD_DEMO_ON_EMPTY": False,
            "PHONE_MISS_LIMIT": 0,
            "ALLOW_BASIC_OVER_HTTP": True,  # the reference uses Basic over loopback
            "REDIS_URL": redis_url,
        },
        instance_path=str(folder / "instance"),
    )
    box = get_secret_box(app)
    with get_store(app).transaction() as session:
        import_tenant_file(session, PROJECT / "examples" / "demo.yaml", "bench", box)
        service.pair(session, box, "demo", MAC, "240", "bench", 30)
    with get_store(app).transaction() as session:
        login = service.reveal_credential(session, box, "demo", MAC, "bench")
    server = create_waitress_server(app, "127.0.0.1", 0, 8)
    threading.Thread(target=server.run, daemon=True).start()
    return int(server.effective_port), login, server


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def basic(login: dict[str, str]) -> Headers:
    """The same Basic header on every request."""
    token = base64.b64encode(f"{login['username']}:{login['password']}".encode()).decode()
    return lambda _connection: {"Authorization": f"Basic {token}"}


def digest(login: dict[str, str]) -> Headers:
    """Per connection: take one challenge, then answer it with counts 1, 2, 3, ..."""
    state: dict[int, tuple[str, int]] = {}
    first = md5(f"{login['username']}:provisioner:{login['password']}")
    second = md5(f"GET:{PATH}")

    def headers(connection: http.client.HTTPConnection) -> dict[str, str]:
        if id(connection) not in state:
            connection.request("GET", PATH, headers={"User-Agent": AGENT})
            response = connection.getresponse()
            response.read()
            found = re.search(r'nonce="([^"]+)"', response.headers["WWW-Authenticate"] or "")
            assert response.status == 401 and found, response.status
            state[id(connection)] = (found[1], 0)
        nonce, count = state[id(connection)]
        state[id(connection)] = (nonce, count + 1)
        answer = md5(f"{first}:{nonce}:{count + 1:08x}:bench:auth:{second}")
        return {
            "Authorization": f'Digest username="{login["username"]}", realm="provisioner", '
            f'nonce="{nonce}", uri="{PATH}", qop=auth, nc={count + 1:08x}, cnonce="bench", '
            f'response="{answer}"'
        }

    return headers


def hammer(port: int, headers: Headers, requests: int, threads: int) -> float:
    """Full files per second for ``requests`` keep-alive GETs over ``threads`` clients."""

    def client(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(count):
            connection.request("GET", PATH, headers={"User-Agent": AGENT, **headers(connection)})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
        connection.close()

    return per_second(client, requests, threads)


def main() -> None:
    """Hit the full file with Basic and with Digest, alternating, and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis", default=None, help="keep nonce uses in this Redis")
    options = parser.parse_args()
    logging.getLogger("waitress").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as name:
        port, login, server = start(Path(name), options.redis)
        where = "Redis" if options.redis else "the database"
        print(f"nonce uses in {where}")
        print(f"{'run':<6}{'Basic/s':>10}{'Digest/s':>10}{'ratio':>8}")
        try:
            for run in range(options.runs):
                reference = hammer(port, basic(login), options.requests, options.concurrency)
                ours = hammer(port, digest(login), options.requests, options.concurrency)
                print(f"{run + 1:<6}{reference:>10.0f}{ours:>10.0f}{ours / reference:>8.3f}")
        finally:
            server.task_dispatcher.shutdown()  # type: ignore[attr-defined]  # threads done first
            server.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
