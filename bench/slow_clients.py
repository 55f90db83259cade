"""Benchmark: a phone boots while slow-sending and idle clients hold connections open.

    .venv/bin/python bench/slow_clients.py            # 16 and 500 slow, with 0 and 2,500 idle
    .venv/bin/python bench/slow_clients.py --slow 16 --idle 0 --boots 10

A slow client (slowloris) sends the request line and headers of a GET one byte every
``--byte-seconds`` (2 s); an idle one connects and says nothing. Any of them the server closes
is opened again at once, as an attacker would. With ``--slow`` and ``--idle`` of them held
against one server, a paired phone boots ``--boots`` times (its model's files in order, a new
connection per request, Basic over loopback, 5 s allowed per request), and the table shows how
many of its requests were answered as captured, the median and the slowest answer, and those
over 1 s. nginx, serving the same bytes from disk, is measured the same way in the same run.

The server is the production command (``granian``: ``python -m provisioner.http.production``,
started as ``bench/boot_storm.py`` starts it) on a PostgreSQL schema made for the run, with
Redis; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from boot_storm import (  # noqa: E402
    DEFAULT_DATABASE,
    DEFAULT_REDIS,
    SERVERS,
    Device,
    devices,
    drop_schema,
    populate,
    save_body,
    schema_url,
    stop,
)
from cryptography.fernet import Fernet  # noqa: E402
from loopback import start_nginx  # noqa: E402

from provisioner import create_app  # noqa: E402
from provisioner.store import get_store  # noqa: E402
from tests.http.attack import Attack  # noqa: E402

SLOW_REQUEST = b"GET /p/y000000000000.cfg HTTP/1.1\r\nHost: provisioner.example\r\n" + (
    b"X-Padding: " + b"a" * 4000 + b"\r\n"
)


@dataclass
class Boots:
    """What the phone saw during one attack on one server."""

    latencies: list[float]
    answered: int
    asked: int

    def row(self) -> str:
        ordered = sorted(self.latencies) or [0.0]
        over = sum(1 for latency in self.latencies if latency > 1.0)
        return (
            f"{self.answered:>4}/{self.asked:<4}{statistics.median(ordered) * 1000:>10.2f}"
            f"{ordered[-1] * 1000:>10.2f}{over:>8}"
        )


def ask(port: int, device: Device, position: int) -> tuple[int, int, float]:
    """One request of the phone's boot on a new connection: (status, length, seconds)."""
    started = time.perf_counter()
    received = b""
    try:
        with socket.create_connection(
            ("127.0.0.1", port), timeout=5, source_address=(device.source, 0)
        ) as connection:
            connection.sendall(device.requests[position])
            while chunk := connection.recv(65536):
                received += chunk
    except OSError:
        return 0, 0, time.perf_counter() - started
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head[9:12]) if head[:5] == b"HTTP/" else 0
    return status, len(body), time.perf_counter() - started


def boot_under_attack(port: int, device: Device, boots: int) -> Boots:
    """The phone boots ``boots`` times; each request counts once answered as captured."""
    latencies, answered, asked = [], 0, 0
    for _ in range(boots):
        for position in range(len(device.requests)):
            status, length, seconds = ask(port, device, position)
            asked += 1
            if (status, length) == device.expected[position]:
                answered += 1
                latencies.append(seconds)
    return Boots(latencies, answered, asked)


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--servers", nargs="+", choices=sorted(SERVERS), default=["granian"])
    parser.add_argument("--slow", type=int, nargs="+", default=[16, 500])
    parser.add_argument("--idle", type=int, nargs="+", default=[0, 2500])
    parser.add_argument("--byte-seconds", type=float, default=2.0)
    parser.add_argument("--boots", type=int, default=5)
    parser.add_argument("--settle-seconds", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    return parser.parse_args(argv)


def measure(options: argparse.Namespace, folder: Path) -> None:
    """Start the servers and nginx, then each attack against each in turn; print the rows."""
    database_url, schema = schema_url(options.database_url)
    settings = {
        "DATABASE_URL": database_url,
        "SECRETS_KEY": Fernet.generate_key().decode(),
        "REDIS_URL": options.redis_url,
        "RATE_LIMIT_PREFIX": f"bench:{uuid.uuid4().hex[:8]}:misses",
        "LOAD_DEMO_ON_EMPTY": "false",
        "PHONE_BASE_URL": "http://provisioner.example/p/",
        "ALLOW_BASIC_OVER_HTTP": "true",
    }
    os.environ["PROVISIONER_INSTANCE"] = str(folder / "instance")
    app = create_app(dict(settings), str(folder / "instance"))
    processes: dict[str, tuple[int, Any]] = {}
    try:
        for name in options.servers:
            processes[name] = SERVERS[name](folder, options.workers, options.threads, settings)
        first = processes[options.servers[0]][0]
        logins = populate(app, first, 1, 5, 0)
        device = next(device for device, mac in devices(logins, 0) if mac)
        root = folder / "root"
        for position, path in enumerate(device.paths):
            status, length, _ = ask(first, device, position)
            device.expected.append((status, length))
            if status == 200:
                with socket.create_connection(("127.0.0.1", first)) as connection:
                    connection.sendall(device.requests[position])
                    received = b""
                    while chunk := connection.recv(65536):
                        received += chunk
                save_body(root, path, received.partition(b"\r\n\r\n")[2])
        print(f"phone: {device.paths} answered {device.expected}", flush=True)
        connections = 2 * (max(options.idle) + max(options.slow)) + 1024
        nginx_port, nginx = start_nginx(folder, root, workers="1", connections=connections)
        processes["nginx"] = (nginx_port, nginx)
        print(f"{'slow':>5}{'idle':>6} {'server':<10}{'answered':>9}{'p50 ms':>10}{'max ms':>10}"
              f"{'>1 s':>8}{'reopened':>10}{'failed':>8}")  # fmt: skip
        for slow, idle in [(slow, idle) for idle in options.idle for slow in options.slow]:
            for name in ["nginx", *options.servers]:
                port = processes[name][0]
                with Attack(port, slow, idle, options.byte_seconds, SLOW_REQUEST) as attack:
                    time.sleep(options.settle_seconds)
                    seen = boot_under_attack(port, device, options.boots)
                print(
                    f"{slow:>5}{idle:>6} {name:<10}{seen.row()}{attack.reopened:>10}"
                    f"{attack.failed:>8}",
                    flush=True,
                )
    finally:
        for _, process in processes.values():
            stop(process)
        get_store(app).dispose()
        drop_schema(schema)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its table."""
    options = parse_options(argv)
    if shutil.which("nginx") is None:
        raise SystemExit("nginx is needed for the reference (Debian: nginx-light)")
    with tempfile.TemporaryDirectory(prefix="slow-clients-") as name:
        measure(options, Path(name))


if __name__ == "__main__":
    main()
