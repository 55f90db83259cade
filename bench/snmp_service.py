"""`bench/snmp_poll.py --service`: one interval of the real `provisioner poller` command.

Every device of the run goes into a store (a PostgreSQL schema made for the run and dropped
after it, or SQLite with ``--database-url sqlite``) through the inventory, as the API adds
them: v2c, a 300 s interval, the default timeout and retries. Then the `provisioner poller`
console command starts with ``--concurrency`` polls in flight; every device is due at once.
The figures: wall time until each device has one poll record (from the process's start, so
its start-up counts), the CPU the poller process used by then, the statuses, and any device
polled twice (there must be none).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

from cryptography.fernet import Fernet
from loopback import tree_cpu_seconds
from sqlalchemy import func, select

from provisioner import create_app
from provisioner.network import inventory
from provisioner.network.device_input import parse_device
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.store.models import NetworkPollRecord
from provisioner.tenants.yaml_io import import_tenant_file

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
INTERVAL = 300
# The interval must end within this; past it the bench gives up (and says so).
LIMIT_SECONDS = 2 * INTERVAL


class Reachable(Protocol):
    """A device of the bench: where its agent listens."""

    address: str
    port: int
    community: str


def measure_interval(
    devices: list[Reachable], arguments: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    """Store the devices, run the poller until each is polled once; the figures."""
    base = arguments.database_url or DEFAULT_DATABASE
    schema = None
    if base.startswith("sqlite"):
        url = f"sqlite:///{folder / 'provisioner.sqlite3'}"
    else:
        from boot_storm import schema_url

        url, schema = schema_url(base)
    settings = {
        "DATABASE_URL": url,
        "SECRETS_KEY": Fernet.generate_key().decode(),
        "LOAD_DEMO_ON_EMPTY": False,
        "FIRMWARE_DIR": str(folder / "firmware"),
    }
    app = create_app(settings, instance_path=str(folder / "instance"), http=False)
    try:
        store_devices(app, devices)
        return run_poller(app, settings, len(devices), arguments, folder)
    finally:
        get_store(app).dispose()
        if schema is not None:
            from boot_storm import drop_schema

            drop_schema(schema)


def store_devices(app: Any, devices: list[Reachable]) -> None:
    """The demo tenant and every device, in one transaction, through the inventory."""
    box = get_secret_box(app)
    with get_store(app).transaction() as session:
        import_tenant_file(session, PROJECT / "examples" / "demo.yaml", "bench", box)
    with get_store(app).transaction() as session:
        for number, device in enumerate(devices):
            fields = {
                "name": f"cpe-{number:05d}",
                "role": "router",
                "address": device.address,
                "port": device.port,
                "community": device.community,
                "poll_interval": INTERVAL,
            }
            inventory.add_device(session, "demo", parse_device(fields), box, "bench")


def run_poller(
    app: Any, settings: dict[str, Any], count: int, arguments: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    """Start `provisioner poller`, wait until every device has a poll record, stop it."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (str(PROJECT), os.environ.get("PYTHONPATH")))),
        "PROVISIONER_DATABASE_URL": settings["DATABASE_URL"],
        "PROVISIONER_SECRETS_KEY": settings["SECRETS_KEY"],
        "PROVISIONER_LOAD_DEMO_ON_EMPTY": "false",
        "PROVISIONER_INSTANCE": str(folder / "instance"),
        "PROVISIONER_FIRMWARE_DIR": settings["FIRMWARE_DIR"],
        "PROVISIONER_NETWORK_POLL_CONCURRENCY": str(arguments.concurrency),
    }
    script = Path(sys.executable).parent / "provisioner"
    output = folder / "poller.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [str(script), "poller", "--name", "bench"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    spy = None
    if arguments.profile:
        from boot_storm import start_profile

        spy = start_profile(process.pid, Path(arguments.profile))
    try:
        elapsed, cpu, stored = wait_for_records(app, process, count)
        if spy is not None:
            from boot_storm import finish_profile

            finish_profile(spy, Path(arguments.profile))
    finally:
        from boot_storm import stop

        stop(process)
    if process.returncode not in (0, -signal.SIGTERM):
        tail = output.read_text(errors="replace")[-2000:]
        raise SystemExit(f"the poller failed (status {process.returncode}):\n{tail}")
    return {
        "service_interval_seconds": round(elapsed, 1),
        "service_stored_polls": stored,  # below the devices: the limit passed first
        "service_cpu_seconds": round(cpu, 1),
        "service_cpu_ms_per_poll": round(cpu / max(stored, 1) * 1000, 2),
        "service_polls_per_second": round(stored / elapsed, 1),
        **records_figures(app),
    }


def wait_for_records(
    app: Any, process: subprocess.Popen[bytes], count: int
) -> tuple[float, float, int]:
    """Seconds from start until ``count`` poll records exist (or LIMIT_SECONDS passed, or the
    poller died), the poller's CPU by then, and the poll records stored."""
    started = time.perf_counter()
    stored, cpu = 0, 0.0
    while time.perf_counter() - started < LIMIT_SECONDS and process.poll() is None:
        with get_store(app).reading() as session:
            stored = session.scalar(select(func.count()).select_from(NetworkPollRecord)) or 0
        # Once every device is stored nothing is due for an interval: this CPU is the round's.
        cpu = tree_cpu_seconds(process.pid)
        if stored >= count:
            break
        time.sleep(0.5)
    return time.perf_counter() - started, cpu, stored


def records_figures(app: Any) -> dict[str, Any]:
    """Statuses of the stored polls, and how many devices were polled more than once."""
    with get_store(app).reading() as session:
        rows = session.execute(select(NetworkPollRecord.device_id, NetworkPollRecord.status)).all()
    per_device = Counter(device for device, _ in rows)
    return {
        "service_statuses": dict(Counter(status for _, status in rows)),
        "service_devices_polled_twice": sum(1 for n in per_device.values() if n > 1),
    }
