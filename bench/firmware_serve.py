"""Benchmark: serving a 16 MiB firmware image, against nginx serving the same file.

    .venv/bin/python bench/firmware_serve.py [--downloads 24] [--ranges 400] [--concurrency 4]

Two parts, each against a reference measured in the same run:

1. The integrity check a request pays: ``catalogue.check`` (re-hash only when the file's stat
   changed) against hashing the image on every request (``catalogue.full_check``).
2. HTTP: whole downloads and 64 KiB Range requests of the image from the real firmware URL of a
   paired phone in a rollout (waitress, as ``provisioner serve`` runs it), against nginx serving
   the very same file statically. Each body is checked.

Needs nginx (Debian: nginx-light). Ratios are what to compare between runs.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from waitress.server import create_server

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from loopback import start_nginx, wait_for, write_files  # noqa: E402

from provisioner import create_app  # noqa: E402
from provisioner.firmware import app_trusted_keys, catalogue_directory, rollout  # noqa: E402
from provisioner.firmware.catalogue import (  # noqa: E402
    NewFirmware,
    add,
    check,
    full_check,
    read_manifest,
)
from provisioner.firmware.signing import public_key_text  # noqa: E402
from provisioner.pairing.credentials import issue_credential  # noqa: E402
from provisioner.security.secrets import get_secret_box  # noqa: E402
from provisioner.store import get_store  # noqa: E402
from provisioner.tenants.repository import find_tenant  # noqa: E402
from provisioner.tenants.yaml_io import import_tenant_file  # noqa: E402

MAC = "805ec0123456"  # the demo tenant's T46U
SIZE = 16 * 1024 * 1024
RANGE = 64 * 1024


def build_app(workdir: Path, image: bytes) -> tuple[object, str]:
    """The demo tenant with a signed image in a canary rollout; the app and the image's path."""
    key = Ed25519PrivateKey.generate()
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "SECRETS_KEY": Fernet.generate_key().decode(),
            "LOAD_DEMO_ON_EMPTY": False,
            "FIRMWARE_DIR": str(workdir / "firmware"),
            "FIRMWARE_TRUSTED_KEYS": public_key_text(key.public_key()),
            "PHONE_MISS_LIMIT": 0,
        },
        instance_path=str(workdir / "instance"),
    )
    source = workdir / "T46U-108.86.0.95.rom"
    source.write_bytes(image)
    new = NewFirmware(source, "yealink", ("T46U",), "108.86.0.95", "bench", "now", None, key)
    add(catalogue_directory(app), new, app_trusted_keys(app))
    box = get_secret_box(app)
    with get_store(app).transaction() as session:
        import_tenant_file(session, PROJECT / "examples" / "demo.yaml", "bench", box)
        issue_credential(session, box, find_tenant(session, "demo").id, MAC, 30)
        wanted = rollout.RolloutRequest("demo", "yealink", "T46U", "108.86.0.95", canary=(MAC,))
        rollout.start(session, wanted, read_manifest(catalogue_directory(app)), "bench")
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"
    config = app.test_client().get(f"/p/{MAC}.cfg", headers={"User-Agent": agent}).text
    url = next(line.split(" = ")[1] for line in config.splitlines() if "firmware.url" in line)
    return app, url.removeprefix("http://localhost")


def time_calls(work: Callable[[], object], seconds: float = 1.0) -> float:
    """Calls per second of ``work`` over about ``seconds``."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or count < 3:
        work()
        count += 1
    return count / elapsed


def integrity(app: object) -> None:
    directory, keys = catalogue_directory(app), app_trusted_keys(app)  # type: ignore[arg-type]
    (entry,) = read_manifest(directory)
    cached = time_calls(lambda: check(directory, entry, keys))
    hashed = time_calls(lambda: full_check(directory, entry, keys))
    print(f"{'integrity check per request':34} {'stat-cached/s':>14} {'hash-each/s':>12} ratio")
    print(f"{'16 MiB image':34} {cached:14.0f} {hashed:12.1f} {cached / hashed:6.0f}x")


def get(port: int, path: str, expected: bytes, byte_range: tuple[int, int] | None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Range": f"bytes={byte_range[0]}-{byte_range[1] - 1}"} if byte_range else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    wanted = expected[byte_range[0] : byte_range[1]] if byte_range else expected
    if response.status not in (200, 206) or body != wanted:
        raise RuntimeError(f"port {port}: HTTP {response.status}, {len(body)} bytes")
    return len(body)


Job = tuple[int, int] | None  # a byte range, or the whole image


def load(port: int, path: str, image: bytes, jobs: list[Job], threads: int) -> float:
    """Seconds to fetch every job (a range or the whole image) over ``threads`` clients."""
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda job: get(port, path, image, job), jobs))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--downloads", type=int, default=24)
    parser.add_argument("--ranges", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    options = parser.parse_args()
    logging.disable(logging.WARNING)
    image = os.urandom(SIZE)
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        app, path = build_app(workdir, image)
        integrity(app)
        server = create_server(app, host="127.0.0.1", port=0, threads=8)
        port = server.effective_port  # type: ignore[union-attr]
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        write_files(workdir / "www", {path: image})
        nginx_port, nginx = start_nginx(workdir, workdir / "www")
        try:
            wait_for(port)
            offsets = [(start, start + RANGE) for start in range(0, SIZE, RANGE)]
            workloads: dict[str, list[Job]] = {
                f"{options.downloads} whole downloads": [None] * options.downloads,
                f"{options.ranges} Range requests of 64 KiB": [
                    offsets[index % len(offsets)] for index in range(options.ranges)
                ],
            }
            print(f"\n{'HTTP, 16 MiB image':34} {'provisioner s':>14} {'nginx s':>12} ratio")
            for name, jobs in workloads.items():
                ours = load(port, path, image, jobs, options.concurrency)
                theirs = load(nginx_port, path, image, jobs, options.concurrency)
                print(f"{name:34} {ours:14.2f} {theirs:12.2f} {ours / theirs:6.1f}x")
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
            server.close()
    print(
        f"\n(image SHA-256 {hashlib.sha256(image).hexdigest()[:12]}, {options.concurrency} clients)"
    )


if __name__ == "__main__":
    main()
