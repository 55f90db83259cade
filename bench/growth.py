"""Benchmark: does a paired phone's full file cost more in a bigger store, or a bigger tenant?

    .venv/bin/python bench/growth.py                 # 100 vs 10,000 phones, 10 vs 2,000 extensions
    .venv/bin/python bench/growth.py --phones 100 1000 --extensions 10 200 --requests 200

Four stores are made per database, through the real code paths: the measured tenant (one
paired Yealink T46U with the tenant's default keys, and ``--extensions`` people) by
``POST /api/v1/tenants``, and the other phones by the boot storm's ``populate`` (``--tenants``
tenants of mixed vendors through the API on a loopback waitress, then the pairing module's
credentials for every phone). The stores:

- reference: the small store (``--phones`` first figure) and the small tenant;
- big store: the same tenant beside the big store (``--phones`` second figure);
- big tenant: the small store, the tenant with the second ``--extensions`` figure;
- at the cap: the small store, a tenant of one more person than the phone has keys beside its
  line (the largest file the default keys make; the big tenant's must be no larger).

Each case is the same request: ``GET /p/a/<mac>.cfg`` with the phone's Basic credentials
(ALLOW_BASIC_OVER_HTTP on), sent in-process through Flask's test client, so what is timed is
the server's own work (WSGI, lookup, decryption, audit, rendering) without a client and sockets
competing for the same CPUs. The cases take turns request by request (the order reversed every
round), so noise hits each alike; after a warm-up, the median per case and the ratio to the
reference are printed, with the SQL statements each request runs on its own thread (the
timeline's batched writes run on another), the file's size and its function keys. "view load"
is a request right after the process's tenant views were dropped: what the first request
after a change of the tenant costs (once per revision and worker). Every store gets a fresh
PostgreSQL schema (dropped at the end), or a fresh SQLite file. Exit status 1 when a warm
request grows more than ``--limit`` times, or runs more statements, in a bigger store.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event
from waitress.server import create_server

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from boot_storm import (  # noqa: E402
    BASE_URL,
    DEFAULT_DATABASE,
    HOST,
    KINDS,
    drop_schema,
    populate,
    schema_url,
    tenant_document,
)

from provisioner import create_app  # noqa: E402
from provisioner.pairing.timeline_writer import get_timeline_writer  # noqa: E402
from provisioner.phones.authorize import VIEWS_KEY  # noqa: E402
from provisioner.phones.keys import find_model, key_room  # noqa: E402
from provisioner.phones.vendors import by_name  # noqa: E402
from provisioner.security.tokens import create_token  # noqa: E402
from provisioner.store import get_store  # noqa: E402

YEALINK = KINDS[0]
# The measured phone's MAC number: far above the other phones', and a multiple of the kinds
# so that tenant_document makes it a Yealink.
MEASURED_MAC = 0xF00000 - 0xF00000 % len(KINDS)
LINE_KEY = re.compile(rb"^linekey\.\d+\.type = ", re.MULTILINE)
# The function keys the measured phone has beside its one line.
KEY_ROOM = key_room(find_model(YEALINK.vendor, YEALINK.model), 1) or 0


@dataclass(frozen=True)
class StoreSize:
    """What one store holds beside the measured tenant, and that tenant's people."""

    label: str
    phones: int
    extensions: int


@dataclass
class Case:
    """One store with its app, and the same request of the measured phone against it."""

    size: StoreSize
    app: Flask
    client: FlaskClient
    path: str
    headers: dict[str, str]
    cleanup: Callable[[], None]
    first: float = 0.0
    first_statements: int = 0
    warm: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    cold_statements: list[int] = field(default_factory=list)
    body: bytes = b""


# --- the stores ------------------------------------------------------------------------------


def measured_tenant(extensions: int) -> dict[str, Any]:
    """The tenant of the measured phone: ``extensions`` people, one Yealink on the first, with
    no keys of its own (the tenant's defaults, cut to the model's keys)."""
    document = tenant_document(0, extensions, 1, MEASURED_MAC)
    for phone in document["phones"]:
        del phone["function_keys"]
    document.update(name="growth", sip_domain="growth.sip.example.net")
    return document


def create_measured_tenant(app: Flask, extensions: int) -> str:
    """Create the measured tenant through the API (in-process); the phone's MAC."""
    with get_store(app).transaction() as session:
        token = create_token(session, "admin", f"growth-{uuid.uuid4().hex[:8]}")
    document = measured_tenant(extensions)
    answer = app.test_client().post(
        "/api/v1/tenants", json=document, headers={"Authorization": f"Bearer {token}"}
    )
    if answer.status_code != 201:
        raise SystemExit(f"creating the measured tenant: {answer.get_data(as_text=True)[:2000]}")
    return str(document["phones"][0]["mac"])


def populate_on_loopback(app: Flask, tenants: int, phones: int) -> dict[str, tuple[Any, str]]:
    """The boot storm's ``populate`` against ``app`` served by waitress on a loopback port."""
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        return populate(app, int(server.effective_port), tenants, phones, 0)
    finally:
        server.close()  # type: ignore[attr-defined]


def fresh_database(kind: str, base_url: str, folder: Path) -> tuple[str, Callable[[], None]]:
    """A fresh database URL (a PostgreSQL schema or a SQLite file) and how to remove it."""
    if kind == "sqlite":
        return f"sqlite:///{folder / f'growth-{uuid.uuid4().hex[:8]}.sqlite3'}", lambda: None
    url, schema = schema_url(base_url)
    return url, lambda: drop_schema(schema)


def boot_every_phone(app: Flask, logins: dict[str, tuple[Any, str]]) -> None:
    """Each phone fetches its full file once, as in a store whose phones have booted: an
    audit row and a timeline event each (the audit log and timeline grow with the store)."""
    client = app.test_client()
    for mac, (kind, basic) in logins.items():
        name = by_name(kind.vendor).device_file(mac, kind.model)
        headers = {
            "Host": HOST,
            "User-Agent": kind.user_agent(mac),
            "Authorization": f"Basic {basic}",
        }
        answer = client.get(f"/p/a/{name}", headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"booting {mac}: /p/a/{name} answered {answer.status_code}")
    get_timeline_writer(app).flush()


def build_case(
    kind: str, base_url: str, folder: Path, size: StoreSize, tenants: int, boot: bool
) -> Case:
    """One store with the measured tenant, the other phones (booted once when ``boot``), and
    the measured request."""
    url, remove = fresh_database(kind, base_url, folder)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRETS_KEY": Fernet.generate_key().decode(),
            "LOAD_DEMO_ON_EMPTY": False,
            "PHONE_BASE_URL": BASE_URL,
            # The measured phone sends Basic in-process, without TLS.
            "ALLOW_BASIC_OVER_HTTP": True,
        },
        str(folder / f"instance-{uuid.uuid4().hex[:8]}"),
    )

    def cleanup() -> None:
        get_timeline_writer(app).close()
        get_store(app).dispose()
        remove()

    try:
        mac = create_measured_tenant(app, size.extensions)
        logins = populate_on_loopback(app, tenants, size.phones)
        if boot:
            boot_every_phone(app, {other: login for other, login in logins.items() if other != mac})
    except BaseException:
        cleanup()
        raise
    headers = {
        "Host": HOST,
        "User-Agent": YEALINK.user_agent(mac),
        "Authorization": f"Basic {logins[mac][1]}",
    }
    return Case(size, app, app.test_client(), f"/p/a/{mac}.cfg", headers, cleanup)


# --- the measurement -------------------------------------------------------------------------


class StatementCounter:
    """Counts the SQL statements this thread sends while armed, on any engine (the store may
    keep more than one: the phone path has its own pool)."""

    def __init__(self) -> None:
        self.count = 0
        self.thread: int | None = None
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        if threading.get_ident() == self.thread:
            self.count += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        """Count this thread's statements inside the block (from zero)."""
        self.count, self.thread = 0, threading.get_ident()
        try:
            yield
        finally:
            self.thread = None


def one_request(case: Case, counter: StatementCounter) -> tuple[float, int, bytes]:
    """The measured request once: seconds, statements, body (a 200 or the run stops)."""
    with counter.counting():
        started = time.perf_counter()
        answer = case.client.get(case.path, headers=case.headers)
        seconds = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"{case.size.label}: {case.path} answered {answer.status_code}")
    return seconds, counter.count, answer.get_data()


def take_turns(cases: list[Case], rounds: int) -> Iterator[Case]:
    """The cases request by request, the order reversed every round (ABC CBA ABC ...)."""
    for round_number in range(rounds):
        yield from (cases if round_number % 2 == 0 else cases[::-1])


def measure(cases: list[Case], options: argparse.Namespace) -> None:
    """First requests, view loads, warm-up, then the timed warm requests, all interleaved."""
    counter = StatementCounter()
    for case in cases:
        case.first, case.first_statements, case.body = one_request(case, counter)
    for case in take_turns(cases, options.cold):
        case.app.extensions.pop(VIEWS_KEY, None)  # as after a change of the tenant
        seconds, statements, _ = one_request(case, counter)
        case.cold.append(seconds)
        case.cold_statements.append(statements)
    for case in take_turns(cases, options.warm_up):
        one_request(case, counter)
    deadline = time.monotonic() + options.seconds
    for case in take_turns(cases, options.requests):
        seconds, statements, body = one_request(case, counter)
        if body != case.body:
            raise SystemExit(f"{case.size.label}: the file changed between requests")
        case.warm.append(seconds)
        case.statements.append(statements)
        if time.monotonic() > deadline:
            break


# --- the report ------------------------------------------------------------------------------


def median_ms(values: list[float]) -> float:
    """The median in milliseconds."""
    return statistics.median(values) * 1000


def print_table(kind: str, cases: list[Case]) -> None:
    """One row per store: medians, ratios to the reference, statements, the file."""
    reference = cases[0]
    print(
        f"{kind}: {len(reference.warm)} warm requests per case, {len(reference.cold)} view loads;"
        f" the {YEALINK.model} has room for {KEY_ROOM} keys beside its line"
    )
    print(
        f"{'case':<12}{'phones':>8}{'exts':>6}{'warm ms':>9}{'x ref':>7}{'view load ms':>14}"
        f"{'x ref':>7}{'first ms':>10}{'SQL warm/load':>15}{'bytes':>7}{'keys':>6}"
    )
    for case in cases:
        keys = function_keys(case.body)
        print(
            f"{case.size.label:<12}{case.size.phones + 1:>8}{case.size.extensions:>6}"
            f"{median_ms(case.warm):>9.2f}{median_ms(case.warm) / median_ms(reference.warm):>7.2f}"
            f"{median_ms(case.cold):>14.2f}{median_ms(case.cold) / median_ms(reference.cold):>7.2f}"
            f"{case.first * 1000:>10.1f}"
            f"{f'{max(case.statements)}/{max(case.cold_statements)}':>15}"
            f"{len(case.body):>7}{keys:>6}"
        )


def function_keys(body: bytes) -> int:
    """The function keys in a Yealink file (the line's own key is not one)."""
    return len(LINE_KEY.findall(body)) - 1


def problems(kind: str, cases: list[Case], limit: float) -> list[str]:
    """What breaks the growth rule: a warm request over ``limit`` x the reference, more
    statements than the reference's, or more keys than the phone has."""
    reference = cases[0]
    found = [
        f"{kind} {case.size.label}: {function_keys(case.body)} keys, the phone has {KEY_ROOM}"
        for case in cases
        if function_keys(case.body) > KEY_ROOM
    ]
    for case in cases[1:]:
        ratio = median_ms(case.warm) / median_ms(reference.warm)
        if ratio > limit:
            found.append(f"{kind} {case.size.label}: {ratio:.2f}x the reference")
        if max(case.statements) > max(reference.statements):
            found.append(
                f"{kind} {case.size.label}: {max(case.statements)} statements per request,"
                f" the reference {max(reference.statements)}"
            )
    return found


# --- the run ---------------------------------------------------------------------------------


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, nargs=2, default=[100, 10_000], metavar="N")
    parser.add_argument("--tenants", type=int, default=20, help="the other phones' tenants")
    parser.add_argument("--extensions", type=int, nargs=2, default=[10, 2000], metavar="N")
    parser.add_argument("--requests", type=int, default=400, help="timed requests per case")
    parser.add_argument("--warm-up", type=int, default=30, help="untimed requests per case")
    parser.add_argument("--cold", type=int, default=15, help="view loads per case")
    parser.add_argument("--seconds", type=float, default=120, help="at most, per database")
    parser.add_argument("--limit", type=float, default=1.5, help="allowed growth")
    parser.add_argument(
        "--no-boot",
        dest="boot",
        action="store_false",
        help="leave the other phones unbooted (no audit rows or timeline events of theirs)",
    )
    parser.add_argument(
        "--databases", nargs="+", choices=("postgresql", "sqlite"), default=["postgresql", "sqlite"]
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    return parser.parse_args(argv)


def sizes(options: argparse.Namespace) -> list[StoreSize]:
    """The reference, the big store, the big tenant, and a tenant just big enough to fill
    the phone's keys (its file is the most the defaults can make)."""
    small_store, big_store = options.phones
    small_tenant, big_tenant = options.extensions
    return [
        StoreSize("reference", small_store, small_tenant),
        StoreSize("big store", big_store, small_tenant),
        StoreSize("big tenant", small_store, big_tenant),
        StoreSize("at the cap", small_store, KEY_ROOM + 1),
    ]


def run_database(kind: str, options: argparse.Namespace, folder: Path) -> list[str]:
    """Build the three stores on one database, measure, print; the problems found."""
    cases: list[Case] = []
    try:
        for size in sizes(options):
            started = time.perf_counter()
            cases.append(
                build_case(kind, options.database_url, folder, size, options.tenants, options.boot)
            )
            print(
                f"{kind} {size.label}: {size.phones + 1} phones, the tenant with"
                f" {size.extensions} extensions (made in {time.perf_counter() - started:.0f} s)",
                flush=True,
            )
        measure(cases, options)
        print_table(kind, cases)
        return problems(kind, cases, options.limit)
    finally:
        for case in cases:
            case.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Run every database, print the tables, and the verdict last."""
    options = parse_options(argv)
    found: list[str] = []
    with tempfile.TemporaryDirectory(prefix="growth-") as name:
        for kind in options.databases:
            found += run_database(kind, options, Path(name))
    if found:
        print("growth: FAILED: " + "; ".join(found))
        raise SystemExit(1)
    print(f"growth: within {options.limit}x and no more statements in the bigger stores")


if __name__ == "__main__":
    main()
