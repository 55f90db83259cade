"""The production HTTP server: granian serving the app in a worker process per core.

    python -m provisioner.http.production [--http 0.0.0.0:8470] [--workers N] [--threads N]
        [--certificate cert.pem --key key.pem] [--quiet] [--app MODULE:FUNCTION]

Each worker makes its own app (``create_app``), so each keeps its own cache and follows the
store's change notices itself; ``PROMETHEUS_MULTIPROC_DIR`` (an empty, writable folder) makes
``/metrics`` sum every worker. The settings, and why:

- a worker per core, ``THREADS`` threads each for the app (a thread waiting on the database
  lets another run);
- the file-descriptor limit raised to ``DESCRIPTORS_WANTED`` (at most the hard limit), and
  each worker takes as many connections at once as its descriptors allow (granian's
  backpressure): idle and slow clients hold a connection, not a thread, so thousands of them
  leave room for phones; at granian's default (backlog / workers) 2,500 idle connections
  stopped every new one;
- a client has ``HEADER_READ_SECONDS`` to send a request's headers, then its connection is
  closed (a client sending a byte every few seconds holds nothing longer);
- keep-alive on (a phone over TLS reuses its connection); TLS 1.2 and 1.3;
- on SIGTERM or SIGINT the workers stop taking connections and finish the answers they began,
  for at most ``STOP_SECONDS``;
- one access-log line per request on standard error (``--quiet``: none).
"""

from __future__ import annotations

import argparse
import os
import resource
from pathlib import Path
from typing import Any

THREADS = 8
DESCRIPTORS_WANTED = 65536
DESCRIPTORS_KEPT = 256  # per worker, beside connections: database, Redis, logs, pipes
HEADER_READ_SECONDS = 5
STOP_SECONDS = 30
DEFAULT_ADDRESS = "127.0.0.1:8470"


def raise_descriptor_limit(wanted: int = DESCRIPTORS_WANTED) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (never past the hard
    limit, never lower); the limit now in force. Workers inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def connections_per_worker(descriptors: int) -> int:
    """How many connections a worker takes at once: what its descriptors allow."""
    return max(descriptors - DESCRIPTORS_KEPT, 64)


def server_options(
    address: tuple[str, int],
    workers: int,
    threads: int,
    descriptors: int,
    access_log: bool = True,
    tls: tuple[Path, Path] | None = None,
    app: str = "provisioner:create_app",
) -> dict[str, Any]:
    """granian's ``Server`` arguments for the app (see the module's docstring)."""
    from granian.constants import HTTPModes, Interfaces, SSLProtocols
    from granian.http import HTTP1Settings

    options: dict[str, Any] = {
        "target": app,
        "factory": True,
        "address": address[0],
        "port": address[1],
        "interface": Interfaces.WSGI,
        "http": HTTPModes.http1,
        "websockets": False,
        "workers": workers,
        "blocking_threads": threads,
        "backlog": 2048,
        "backpressure": connections_per_worker(descriptors),
        "http1_settings": HTTP1Settings(
            header_read_timeout=HEADER_READ_SECONDS * 1000, keep_alive=True
        ),
        "workers_kill_timeout": STOP_SECONDS,
        "respawn_failed_workers": True,
        "log_access": access_log,
    }
    if tls is not None:
        # TLS 1.2 as well as 1.3: phones in service today often speak no 1.3 (granian's
        # default minimum is 1.3).
        options.update(ssl_cert=tls[0], ssl_key=tls[1], ssl_protocol_min=SSLProtocols.tls12)
    return options


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--http", default=DEFAULT_ADDRESS, help=f"HOST:PORT [{DEFAULT_ADDRESS}]")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=THREADS, help="per worker")
    parser.add_argument("--certificate", type=Path, help="PEM certificate: serve HTTPS")
    parser.add_argument("--key", type=Path, help="the certificate's key (PEM, PKCS#8)")
    parser.add_argument("--quiet", action="store_true", help="no access-log line per request")
    parser.add_argument(
        "--app", default="provisioner:create_app", help="MODULE:FUNCTION making the WSGI app"
    )
    options = parser.parse_args(argv)
    if (options.certificate is None) != (options.key is None):
        parser.error("--certificate and --key go together")
    return options


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT."""
    import click
    from granian.server import Server

    from provisioner.command_helpers import parse_address

    options = parse_options(argv)
    try:
        address = parse_address(options.http)
    except click.BadParameter as exc:
        raise SystemExit(f"--http {exc.message}") from exc
    tls = (options.certificate, options.key) if options.certificate else None
    descriptors = raise_descriptor_limit()
    settings = server_options(
        address, options.workers, options.threads, descriptors, not options.quiet, tls, options.app
    )
    Server(**settings).serve()


if __name__ == "__main__":
    main()
