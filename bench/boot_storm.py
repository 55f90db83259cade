"""Benchmark: a boot storm against the production setup, beside nginx serving the same bytes.

    .venv/bin/python bench/boot_storm.py                       # 10,000 phones, 20 tenants, 3 rounds
    .venv/bin/python bench/boot_storm.py --phones 2000 --tenants 4 --rounds 1   # a quick look
    .venv/bin/python bench/boot_storm.py --https    # Basic over TLS, nginx with TLS too
    git worktree add /tmp/before <commit> && \
    .venv/bin/python bench/boot_storm.py --phones 2000 --tenants 4 --baseline-code /tmp/before

The store is made the way an operator makes it: each tenant (extensions, phones of mixed
vendors with their lines and keys) is created by ``POST /api/v1/tenants`` on the server itself,
then every phone gets its provisioning credentials from the pairing module (the function the
pairing API calls; the API would re-save the whole tenant per phone). The server is the
production setup: the production command (``python -m provisioner.http.production``, granian:
a worker per core, each with 8 threads; ``--workers``, ``--threads``), PostgreSQL, Redis for
the shared rate limits, the timeline and the audit on.

A phone is a client with its own loopback source address (127.10.x.y; unknown ones 127.20.x.y) that
opens a new TCP connection per request, as phones do, and asks for its model's boot files in order:
unknown MACs (``--unknown-share`` of all devices) on ``/p/``, paired phones on ``/p/a/`` with their
own credentials, as the shipped settings take them: by default each file asked without credentials,
then, on a new connection, with the answer to the Digest challenge it got (both requests count;
nginx challenges the same paths with a fixed nonce); ``--https``: Basic over TLS, a new TLS
connection per request, against nginx with TLS; ``--basic-over-http``: Basic over plain HTTP
(``ALLOW_BASIC_OVER_HTTP``, off when shipped). C of them (``--concurrency``, 50 and 200) boot at
once, from ``--client-processes`` asyncio processes, until every device has booted or
``--round-seconds`` have passed.

A first, untimed round through provisioner captures every answer; nginx then serves those bytes from
disk at the same paths. Each round runs nginx and each of ``--servers`` one after the other (the
order turns by one each round); the table shows the median over ``--rounds``: requests per second,
p50 and p99 of the request time, errors (a status or a length other than the captured one, or a
failed connection), and provisioner/nginx. Absolute figures depend on the machine (and the Python
client is a large part of nginx's cost); compare the ratios of one run.
Needs nginx (Debian: nginx-light), PostgreSQL and Redis (``--database-url``, ``--redis-url``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from waitress.server import create_server

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from loopback import (  # noqa: E402
    free_port,
    named_cpu_seconds,
    self_signed,
    start_nginx,
    tree_cpu_seconds,
    wait_for,
)

from provisioner import create_app  # noqa: E402
from provisioner.pairing.credentials import issue_credential  # noqa: E402
from provisioner.phones.vendors import by_name  # noqa: E402
from provisioner.security.secrets import get_secret_box  # noqa: E402
from provisioner.security.tokens import create_token  # noqa: E402
from provisioner.store import get_store, models  # noqa: E402

HOST = "provisioner.example"
BASE_URL = f"http://{HOST}/p/"
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# The services on the same cores whose CPU time each storm also reports (per request).
SERVICES = frozenset({"postgres", "redis-server"})
# Extensions count up from here (numbers starting 112, 144 or 911 are refused: emergency).
FIRST_NUMBER = 2000


@dataclass(frozen=True)
class PhoneKind:
    """A model as it boots: its vendor, model, OUI and User-Agent (real forms, see tests)."""

    vendor: str
    model: str
    oui: str
    agent: str  # {mac}, {MAC}, {colon_mac} are filled in

    def user_agent(self, mac: str) -> str:
        """The User-Agent of the phone with ``mac``."""
        colon = ":".join(mac[index : index + 2] for index in range(0, 12, 2))
        return self.agent.format(mac=mac, MAC=mac.upper(), colon_mac=colon)

    def boot_files(self, mac: str) -> tuple[str, ...]:
        """The names the model asks for at boot, in order (the vendor module's own list)."""
        return by_name(self.vendor).boot_files(mac, self.model)


KINDS = (
    PhoneKind("yealink", "T46U", "805ec0", "Yealink SIP-T46U 108.86.0.90 {colon_mac}"),
    PhoneKind("polycom", "VVX450", "64167f", "FileTransport PolycomVVX-VVX_450-UA/6.4.6.2118"),
    PhoneKind(
        "snom", "D785", "000413", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010 {MAC})"
    ),
    PhoneKind(
        "grandstream", "GRP2614", "c074ad", "Grandstream Model HW GRP2614 SW 1.0.5.15 DevId {mac}"
    ),
    PhoneKind("fanvil", "X4U", "0c383e", "Fanvil X4U 2.12.16.17 {mac}"),
)


@dataclass
class Device:
    """One booting device: where it sends from and the requests of its boot, in order."""

    source: str
    requests: list[bytes]
    paths: list[str]
    expected: list[tuple[int, int]] = field(default_factory=list)  # (status, body length)
    login: tuple[str, str] | None = None  # (user, password) a paired phone answers Digest with


# --- the store -------------------------------------------------------------------------------


def tenant_document(index: int, extensions: int, phones: int, first_mac: int) -> dict[str, Any]:
    """A tenant of ``extensions`` people, the first ``phones`` of them with a desk phone."""
    people = [
        {"number": str(FIRST_NUMBER + number), "name": f"Person {index}-{number}"}
        for number in range(extensions)
    ]
    devices = []
    for number in range(phones):
        kind = KINDS[(first_mac + number) % len(KINDS)]
        colleagues = [str(FIRST_NUMBER + (number + step) % extensions) for step in range(1, 5)]
        devices.append(
            {
                "mac": f"{kind.oui}{first_mac + number:06x}",
                "vendor": kind.vendor,
                "model": kind.model,
                "lines": [str(FIRST_NUMBER + number)],
                "function_keys": [{"type": "blf", "value": value} for value in colleagues],
            }
        )
    return {
        "name": f"storm{index}",
        "sip_domain": f"storm{index}.sip.example.net",
        "extensions": people,
        "phones": devices,
    }


def populate(
    app: Any,
    port: int,
    tenants: int,
    phones: int,
    extensions: int,
    tls: ssl.SSLContext | None = None,
) -> dict[str, tuple[PhoneKind, str]]:
    """Create the tenants through the API (over TLS with ``tls``) and credentials per phone;
    MAC -> (kind, Basic login)."""
    with get_store(app).transaction() as session:
        token = create_token(session, "admin", f"bench-{uuid.uuid4().hex[:8]}")
    per_tenant = [
        phones // tenants + (1 if index < phones % tenants else 0) for index in range(tenants)
    ]
    first = 0
    for index, count in enumerate(per_tenant):
        document = tenant_document(index, max(extensions, count), count, first)
        first += count
        request = urllib.request.Request(
            f"{'https' if tls else 'http'}://127.0.0.1:{port}/api/v1/tenants",
            data=json.dumps(document).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            urllib.request.urlopen(request, timeout=600, context=tls).close()
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"creating {document['name']}: {exc.read().decode()[:2000]}") from exc
    logins: dict[str, tuple[PhoneKind, str]] = {}
    box = get_secret_box(app)
    kinds = {kind.vendor: kind for kind in KINDS}
    with get_store(app).transaction() as session:
        for phone in session.query(models.Phone).all():
            credential = issue_credential(session, box, phone.tenant_id, phone.mac, 0)
            password = box.decrypt(credential.password_encrypted)
            basic = base64.b64encode(f"{credential.username}:{password}".encode()).decode()
            logins[phone.mac] = (kinds[phone.vendor or ""], basic)
    return logins


def devices(
    logins: dict[str, tuple[PhoneKind, str]], unknown: int, digest: bool = False
) -> Iterator[tuple[Device, str | None]]:
    """Every booting device with its requests: paired ones on /p/a/ with Basic, or answering
    a Digest challenge per request with ``digest``; unknown ones on /p/."""
    for position, (mac, (kind, basic)) in enumerate(sorted(logins.items())):
        source = f"127.10.{position // 250}.{position % 250 + 1}"
        if digest:
            user, _, password = base64.b64decode(basic).decode().partition(":")
            device = _device(kind, mac, source, "/p/a/", None)
            device.login = (user, password)
            yield device, mac
        else:
            yield _device(kind, mac, source, "/p/a/", basic), mac
    for position in range(unknown):
        kind = KINDS[position % len(KINDS)]
        mac = f"{kind.oui}f{position:05x}"
        source = f"127.20.{position // 250}.{position % 250 + 1}"
        yield _device(kind, mac, source, "/p/", None), None


def _device(kind: PhoneKind, mac: str, source: str, prefix: str, basic: str | None) -> Device:
    requests, paths = [], []
    for name in kind.boot_files(mac):
        lines = [
            f"GET {prefix}{name} HTTP/1.1",
            f"Host: {HOST}",
            f"User-Agent: {kind.user_agent(mac)}",
        ]
        if basic:
            lines.append(f"Authorization: Basic {basic}")
        lines.append("Connection: close")
        requests.append(("\r\n".join(lines) + "\r\n\r\n").encode())
        paths.append(f"{prefix}{name}")
    return Device(source, requests, paths)


# --- the servers -----------------------------------------------------------------------------


def server_environment(settings: dict[str, str], code: Path = PROJECT) -> dict[str, str]:
    """The environment the server's workers configure the app from (``code``: the checkout
    whose ``provisioner`` they run)."""
    environment = dict(os.environ, PYTHONPATH=str(code))
    environment.update({f"PROVISIONER_{key}": value for key, value in settings.items()})
    return environment


def start_granian(
    folder: Path,
    workers: int,
    threads: int,
    settings: dict[str, str],
    tls: tuple[Path, Path] | None = None,
    code: Path = PROJECT,
) -> tuple[int, Any]:
    """The production command (``python -m provisioner.http.production``, granian) with
    ``workers`` workers of ``threads`` threads on a free port, its access log off; HTTPS with
    ``tls`` (certificate, key); the ``provisioner`` of the checkout ``code``."""
    port = free_port()
    metrics = folder / f"metrics-{port}"
    metrics.mkdir(exist_ok=True)
    environment = server_environment(settings, code)
    environment["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "provisioner.http.production",
            "--http",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--quiet",
            *(["--certificate", str(tls[0]), "--key", str(tls[1])] if tls else []),
        ],
        env=environment,
        cwd=code,
        stderr=subprocess.DEVNULL,
    )
    wait_for(port)
    return port, process


SERVERS = {"granian": start_granian}


@dataclass
class Served:
    """A server under test started by ``serve``: where it listens and how to stop it."""

    port: int
    pid: int | None  # the server's main process (for py-spy); None for waitress in this process
    setup: str  # what is measured, for the bench's "server:" line
    stop: Callable[[], None]


def production_settings() -> dict[str, Any]:
    """The production command's workers and threads: the benches' server is set up so."""
    from provisioner.http.production import THREADS

    return {"workers": os.cpu_count() or 1, "threads": THREADS}


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The options ``serve`` reads: which server, its workers and threads (by default as the
    production command has them), the database."""
    production = production_settings()
    parser.add_argument("--server", choices=("granian", "waitress"), default="granian")
    parser.add_argument("--workers", type=int, default=production["workers"])
    parser.add_argument(
        "--threads",
        type=int,
        default=production["threads"],
        help="per worker",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)


def serve(
    folder: Path,
    options: argparse.Namespace,
    settings: dict[str, Any],
    populate: Callable[[Any], None],
) -> Served:
    """The app with ``settings`` (plain values), its store filled by ``populate(app)`` first.

    ``options.server`` "granian" (see ``add_server_options``): the production command in its own
    processes on a fresh PostgreSQL schema, dropped by ``stop``. "waitress": waitress (8 threads) in
    this process on SQLite, as ``provisioner serve`` does; its threads share this interpreter's lock
    with the bench's clients.
    """
    settings = dict(settings, SECRETS_KEY=Fernet.generate_key().decode(), LOAD_DEMO_ON_EMPTY=False)
    os.environ["PROVISIONER_INSTANCE"] = str(folder / "instance")
    if options.server == "waitress":
        settings["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
        app = create_app(settings, str(folder / "instance"))
        populate(app)
        server = create_server(app, host="127.0.0.1", port=0, threads=8)
        threading.Thread(target=server.run, daemon=True).start()
        setup = "waitress, 8 threads, SQLite, in this process"
        return Served(int(server.effective_port), None, setup, server.close)
    settings["DATABASE_URL"], schema = schema_url(options.database_url)
    app = create_app(settings, str(folder / "instance"))
    populate(app)
    get_store(app).dispose()
    environment = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in settings.items()
    }
    port, server = start_granian(folder, options.workers, options.threads, environment)

    def stop_all() -> None:
        stop(server)
        drop_schema(schema)

    setup = f"granian, {options.workers} workers x {options.threads} threads, PostgreSQL"
    return Served(port, server.pid, setup, stop_all)


# --- the clients -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one client process saw."""

    latencies: list[float]
    errors: int
    elapsed: float
    answers: dict[int, list[tuple[int, int]]]  # device index -> (status, length) per request


async def exchange(
    port: int, source: str, request: bytes, tls: ssl.SSLContext | None
) -> tuple[bytes, bytes]:
    """One request on a new connection (TLS with ``tls``): the answer's head and body."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1",
        port,
        local_addr=(source, 0),
        ssl=tls,
        server_hostname="127.0.0.1" if tls else None,
    )
    writer.write(request)
    data = await reader.read(-1)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def digest_answer(request: bytes, head: bytes, path: str, login: tuple[str, str]) -> bytes:
    """``request`` again, with the Digest answer to the challenge in ``head`` (nc 1, MD5)."""
    text = head.decode("latin-1")
    nonce = re.search(r'Digest [^\r\n]*nonce="([^"]+)"', text)
    realm = re.search(r'Digest [^\r\n]*realm="([^"]+)"', text)
    if nonce is None or realm is None:
        return request  # no challenge: the same request again, counted as an error
    user, password = login
    cnonce = os.urandom(8).hex()
    first = md5(f"{user}:{realm[1]}:{password}")
    response = md5(f"{first}:{nonce[1]}:00000001:{cnonce}:auth:{md5(f'GET:{path}')}")
    header = (
        f'Authorization: Digest username="{user}", realm="{realm[1]}", nonce="{nonce[1]}", '
        f'uri="{path}", qop=auth, nc=00000001, cnonce="{cnonce}", response="{response}"'
    )
    return request[:-2] + header.encode() + b"\r\n\r\n"


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


async def boot(
    port: int,
    device: Device,
    latencies: list[float],
    capture: list[tuple[int, int]] | None,
    root: Path | None,
    tls: ssl.SSLContext | None = None,
) -> int:
    """One device's boot sequence, a new connection per request (a paired phone with a login
    first takes a Digest challenge, then answers it on another); returns its errors. While
    capturing, the answers' (status, length) go to ``capture`` and 200 bodies under ``root``."""
    errors = 0
    seen = 0  # the exchanges so far: ``expected`` has one entry per exchange
    for position, first_request in enumerate(device.requests):
        request = first_request
        for _ in range(2 if device.login else 1):
            started = time.perf_counter()
            try:
                head, body = await exchange(port, device.source, request, tls)
            except OSError:
                errors += 1
                break
            latencies.append(time.perf_counter() - started)
            status = int(head[9:12]) if head[:5] == b"HTTP/" else 0
            if capture is not None:
                capture.append((status, len(body)))
                if status == 200 and root is not None:
                    save_body(root, device.paths[position], body)
            elif seen >= len(device.expected) or not _as_captured(
                status, len(body), device.expected[seen]
            ):
                errors += 1
            seen += 1
            if device.login and status != 401:
                break  # no challenge (an unknown file, say): nothing to answer
            if device.login:
                request = digest_answer(first_request, head, device.paths[position], device.login)
    return errors


def _as_captured(status: int, length: int, captured: tuple[int, int]) -> bool:
    """The same status as captured, and for a 200 the same length (error pages differ)."""
    return status == captured[0] and (status != 200 or length == captured[1])


def save_body(root: Path, path: str, body: bytes) -> None:
    """One answer as the file nginx serves for ``path``."""
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    target.write_bytes(body)
    target.chmod(0o644)


async def storm(
    port: int,
    devices_: list[tuple[int, Device]],
    concurrency: int,
    seconds: float,
    capture: Path | None,
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """``concurrency`` clients boot the devices, each taking the next, until done or time."""
    latencies: list[float] = []
    answers: dict[int, list[tuple[int, int]]] = {}
    queue = iter(devices_)
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def client() -> None:
        nonlocal errors
        for index, device in queue:
            if time.perf_counter() > deadline:
                return
            seen: list[tuple[int, int]] | None = [] if capture is not None else None
            errors += await boot(port, device, latencies, seen, capture, tls)
            if seen is not None:
                answers[index] = seen

    await asyncio.gather(*(client() for _ in range(max(concurrency, 1))))
    return Outcome(latencies, errors, time.perf_counter() - started, answers)


def client_process(
    port: int,
    devices_: list[tuple[int, Device]],
    concurrency: int,
    seconds: float,
    capture: Path | None,
    start_at: float,
    results: Any,
    tls: ssl.SSLContext | None = None,
) -> None:
    """One client process: wait for the common start, storm, send the outcome back."""
    time.sleep(max(0.0, start_at - time.time()))
    results.put(asyncio.run(storm(port, devices_, concurrency, seconds, capture, tls)))


def run_storm(
    port: int,
    all_devices: list[Device],
    concurrency: int,
    seconds: float,
    processes: int,
    capture: Path | None = None,
    tls: ssl.SSLContext | None = None,
) -> Outcome:
    """The devices split over ``processes`` client processes, all starting together (forked:
    the TLS context goes with them)."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    shares = [
        [(index, device) for index, device in enumerate(all_devices) if index % processes == part]
        for part in range(processes)
    ]
    start_at = time.time() + 0.5
    workers = [
        context.Process(
            target=client_process,
            args=(
                port,
                share,
                max(concurrency // processes, 1),
                seconds,
                capture,
                start_at,
                results,
                tls,
            ),
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=seconds + 300) for _ in workers]
    for worker in workers:
        worker.join()
    answers: dict[int, list[tuple[int, int]]] = {}
    for outcome in outcomes:
        answers.update(outcome.answers)
    return Outcome(
        [latency for outcome in outcomes for latency in outcome.latencies],
        sum(outcome.errors for outcome in outcomes),
        max(outcome.elapsed for outcome in outcomes),
        answers,
    )


@dataclass(frozen=True)
class Figures:
    """One storm's summary."""

    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_ms: float = 0.0  # the server's CPU time per request (its processes, from /proc)
    services_ms: float = 0.0  # PostgreSQL's and Redis's CPU time per request (the same cores)


def figures(outcome: Outcome, cpu_seconds: float = 0.0, services_seconds: float = 0.0) -> Figures:
    """Requests per second, the request-time percentiles, and the server's and the
    services' CPU time per request of one storm."""
    ordered = sorted(outcome.latencies) or [0.0]

    def percentile(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    count = len(outcome.latencies)
    return Figures(
        count / outcome.elapsed,
        percentile(0.50),
        percentile(0.99),
        outcome.errors,
        count,
        cpu_seconds * 1000 / count if count else 0.0,
        services_seconds * 1000 / count if count else 0.0,
    )


def median_figures(rounds: list[Figures]) -> Figures:
    """The median of each figure over the rounds (errors: the sum)."""
    return Figures(
        statistics.median(item.per_second for item in rounds),
        statistics.median(item.p50_ms for item in rounds),
        statistics.median(item.p99_ms for item in rounds),
        sum(item.errors for item in rounds),
        sum(item.requests for item in rounds),
        statistics.median(item.cpu_ms for item in rounds),
        statistics.median(item.services_ms for item in rounds),
    )


# --- the run ---------------------------------------------------------------------------------


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=10_000, help="paired phones in the store")
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument(
        "--extensions", type=int, default=0, help="per tenant (default: its phones)"
    )
    parser.add_argument("--unknown-share", type=float, default=0.10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--round-seconds", type=float, default=90.0)
    production = production_settings()
    parser.add_argument("--workers", type=int, default=production["workers"])
    parser.add_argument(
        "--threads",
        type=int,
        default=production["threads"],
        help="per worker",
    )
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=sorted(SERVERS),
        default=["granian"],
        help="the servers measured in turn beside nginx (granian: the production command)",
    )
    parser.add_argument(
        "--baseline-code",
        type=Path,
        metavar="CHECKOUT",
        help="also measure the production command of another checkout (e.g. a git worktree of "
        "the commit before a change) on the same store, in turn with the others: before and "
        "after in one run",
    )
    parser.add_argument(
        "--https",
        action="store_true",
        help="paired phones send Basic over TLS, a new TLS connection per request (nginx too)",
    )
    parser.add_argument(
        "--basic-over-http",
        action="store_true",
        help="paired phones send Basic over plain HTTP (ALLOW_BASIC_OVER_HTTP, off when shipped)",
    )
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the workers during the first provisioner storm: raw stacks to FILE, "
        "and the heaviest functions printed",
    )
    return parser.parse_args(argv)


def schema_url(base: str) -> tuple[str, Any]:
    """A fresh PostgreSQL schema for this run (dropped at the end), and its admin engine."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return f"{base}?options=-csearch_path%3D{schema}", (admin, schema)


def drop_schema(handle: Any) -> None:
    """Drop the run's schema."""
    admin, schema = handle
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def stop(process: Any) -> None:
    """Stop a server we started, by its own process."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def measure(options: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Populate, start both servers, capture, then the timed rounds; the summary as data."""
    database_url, schema = schema_url(options.database_url)
    settings = {
        "DATABASE_URL": database_url,
        "SECRETS_KEY": Fernet.generate_key().decode(),
        "REDIS_URL": options.redis_url,
        "RATE_LIMIT_PREFIX": f"bench:{uuid.uuid4().hex[:8]}:misses",
        "LOAD_DEMO_ON_EMPTY": "false",
        "PHONE_BASE_URL": BASE_URL,
        # The shipped setting unless --basic-over-http: Basic only over TLS.
        "ALLOW_BASIC_OVER_HTTP": "true" if options.basic_over_http else "false",
    }
    os.environ["PROVISIONER_INSTANCE"] = str(folder / "instance")
    app = create_app({key: value for key, value in settings.items()}, str(folder / "instance"))
    tls = self_signed(folder) if options.https else None
    client_tls = ssl.create_default_context(cafile=str(tls[0])) if tls else None
    digest = not (options.https or options.basic_over_http)
    servers: dict[str, tuple[int, Any]] = {}
    nginx = None
    try:
        started = time.perf_counter()
        for name in options.servers:
            servers[name] = SERVERS[name](folder, options.workers, options.threads, settings, tls)
        if options.baseline_code:  # the same production command, other code, same store
            servers["baseline"] = start_granian(
                folder, options.workers, options.threads, settings, tls, options.baseline_code
            )
        port = servers[options.servers[0]][0]
        logins = populate(
            app, port, options.tenants, options.phones, options.extensions, client_tls
        )
        share = min(max(options.unknown_share, 0.0), 0.9)
        unknown = round(len(logins) * share / (1 - share))
        booting = [device for device, _ in devices(logins, unknown, digest)]
        root = folder / "root"
        capture = run_storm(port, booting, 50, 3600, options.client_processes, root, client_tls)
        for index, device in enumerate(booting):
            device.expected = capture.answers[index]
        statuses: dict[int, int] = {}
        for device in booting:
            for status, _ in device.expected:
                statuses[status] = statuses.get(status, 0) + 1
        print(
            f"store: {len(logins)} paired phones in {options.tenants} tenants, {unknown} unknown"
            f" MACs, {sum(statuses.values())} requests per storm ({mode_name(options)};"
            f" made in {time.perf_counter() - started:.0f} s)\n"
            f"captured: statuses {dict(sorted(statuses.items()))}",
            flush=True,
        )
        nginx_port, nginx = start_nginx(
            folder,
            root,
            workers="auto",
            connections=4096,
            backlog=2048,
            tls=tls,
            settings=nginx_digest(booting) if digest else ("", ""),
        )
        targets = {"nginx": (nginx_port, nginx.pid)}
        targets.update({name: (port, process.pid) for name, (port, process) in servers.items()})
        return timed_rounds(options, booting, targets, client_tls)
    finally:
        for process in [nginx, *(process for _, process in servers.values())]:
            if process is not None:
                stop(process)
        get_store(app).dispose()
        drop_schema(schema)


def nginx_digest(booting: list[Device]) -> tuple[str, str]:
    """nginx's side of a Digest boot (its http and server settings): a challenge for a request
    without credentials on each path provisioner challenged, the file for one with them (the
    client answers whatever challenge it is given)."""
    challenged = set()
    for device in booting:
        seen = 0
        for path in device.paths:
            status = device.expected[seen][0] if seen < len(device.expected) else 0
            seen += 2 if status == 401 else 1
            if status == 401:
                challenged.add(path)
    entries = " ".join(f'"{path}|" 1;' for path in sorted(challenged))
    http = (
        "map_hash_bucket_size 128; map_hash_max_size 262144;"
        f' map "$uri|$http_authorization" $challenge {{ default 0; {entries} }}'
    )
    server = (
        "location /p/a/ { if ($challenge) { add_header WWW-Authenticate"
        ' \'Digest realm="provisioner", qop="auth", algorithm=MD5, nonce="nginx"\' always;'
        " return 401; } }"
    )
    return http, server


def mode_name(options: argparse.Namespace) -> str:
    """How the paired phones authenticate in this run."""
    if options.https:
        return "Basic over TLS, a new TLS connection per request"
    if options.basic_over_http:
        return "Basic over plain HTTP"
    return "Digest over plain HTTP, a challenge per file"


def timed_rounds(
    options: argparse.Namespace,
    booting: list[Device],
    targets: dict[str, tuple[int, int]],
    tls: ssl.SSLContext | None = None,
) -> dict[str, Any]:
    """Each concurrency: ``rounds`` storms against each server (name -> port, pid), the order
    turning by one each round."""
    summary: dict[str, Any] = {}
    profiled = False
    names = list(targets)
    for concurrency in options.concurrency:
        rounds: dict[str, list[Figures]] = {name: [] for name in names}
        for round_number in range(options.rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                target, pid = targets[name]
                spy = None
                if options.profile and name != "nginx" and not profiled:
                    spy = start_profile(pid, Path(options.profile))
                    profiled = True
                cpu_before = tree_cpu_seconds(pid)
                services_before = named_cpu_seconds(SERVICES)
                outcome = run_storm(
                    target,
                    booting,
                    concurrency,
                    options.round_seconds,
                    options.client_processes,
                    tls=tls,
                )
                result = figures(
                    outcome,
                    tree_cpu_seconds(pid) - cpu_before,
                    named_cpu_seconds(SERVICES) - services_before,
                )
                if spy is not None:
                    finish_profile(spy, Path(options.profile))
                rounds[name].append(result)
                print(
                    f"  C={concurrency} round {round_number + 1} {name}: {result.per_second:.0f}/s"
                    f" p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms"
                    f" errors {result.errors} ({result.requests} requests)"
                    f" CPU {result.cpu_ms:.2f} ms/request"
                    f" (PostgreSQL and Redis {result.services_ms:.2f})",
                    flush=True,
                )
        summary[str(concurrency)] = {
            name: median_figures(measured).__dict__ for name, measured in rounds.items()
        }
    return summary


def start_profile(server: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the server and its workers until stopped."""
    beside = Path(sys.executable).parent / "py-spy"
    command = [
        str(beside) if beside.exists() else "py-spy",
        "record",
        "--pid",
        str(server),
        "--subprocesses",
        "--rate",
        "250",
    ]
    command += ["--format", "raw", "--output", str(output), "--nonblocking"]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches before the storm starts
    return spy


def finish_profile(spy: subprocess.Popen[bytes], output: Path, shown: int = 25) -> None:
    """Stop py-spy and print the functions with the largest share of the workers' samples."""
    spy.send_signal(signal.SIGINT)
    spy.wait(timeout=60)
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in output.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit() or "wsgi" not in stack and "provisioner" not in stack:
            continue
        count = int(count_text)
        total += count
        frames = [
            frame.split(" (")[0] + " " + frame.rsplit("/", 1)[-1].split(":")[0].rstrip(")")
            for frame in stack.split(";")
        ]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    print(f"profile: {total} samples of request work in {output}")
    print("  inclusive:")
    for frame, count in sorted(inclusive.items(), key=lambda item: -item[1])[:shown]:
        print(f"  {100 * count / max(total, 1):5.1f}%  {frame}")
    print("  own time:")
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:shown]:
        print(f"  {100 * count / max(total, 1):5.1f}%  {frame}")


def print_table(summary: dict[str, Any]) -> None:
    """The medians and the ratios, one row per server and concurrency."""
    print(
        f"{'C':>4} {'server':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'req/s ratio':>13}{'p99 x nginx':>13}{'CPU ms/req':>12}{'db ms/req':>11}"
    )
    for concurrency, rows in summary.items():
        theirs = rows["nginx"]
        for name, row in rows.items():
            ratio = row["per_second"] / theirs["per_second"] if theirs["per_second"] else 0.0
            slower = row["p99_ms"] / theirs["p99_ms"] if theirs["p99_ms"] else 0.0
            print(
                f"{concurrency:>4} {name:<12}{row['per_second']:>9.0f}{row['p50_ms']:>9.1f}"
                f"{row['p99_ms']:>9.1f}{row['errors']:>8}{ratio:>13.3f}{slower:>13.1f}"
                f"{row.get('cpu_ms', 0.0):>12.2f}{row.get('services_ms', 0.0):>11.2f}"
            )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its table."""
    options = parse_options(argv)
    if shutil.which("nginx") is None:
        raise SystemExit("nginx is needed for the reference (Debian: nginx-light)")
    with tempfile.TemporaryDirectory(prefix="boot-storm-") as name:
        summary = measure(options, Path(name))
    print_table(summary)
    if options.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
