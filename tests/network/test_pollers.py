"""Several `provisioner poller` services sharing one PostgreSQL store, as separate processes of
the real console command polling real agents (snmpd, snmpsim) on loopback; one is killed
(SIGKILL) mid-run. No device is polled twice in an interval, the killed poller's devices are
polled by the others within one interval, and traps sent to any poller land in the store."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from provisioner.store import get_store
from provisioner.store.models import NetworkPollRecord, NetworkTrap, utc_now
from tests.conftest import import_demo, make_app
from tests.network.agents import Snmpd, Snmpsim
from tests.network.conftest import add_device, v2c_device
from tests.network.test_traps import send_v2c
from tests.test_console_commands import console_environment, console_script

pytestmark = pytest.mark.postgres

INTERVAL = 10  # the shortest a device may have (seconds)
# A poll is claimed up to a second after it is due (CLAIM_SECONDS) and stored when it ends:
# on a busy machine a poll of snmpsim takes a few seconds.
SLACK = 4.0
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_INDEX_3 = "1.3.6.1.2.1.2.2.1.1.3"


@dataclass
class PollerProcess:
    """One `provisioner poller` process and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    output: Path

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def trap_port(self) -> int:
        found = re.search(r"receiving traps on udp 127\.0\.0\.1:(\d+)", self.text())
        assert found, self.text()
        return int(found[1])


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Block until ``condition`` holds, at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


def start_poller(app: Flask, url: str, name: str, folder: Path) -> PollerProcess:
    """`provisioner poller --name NAME --traps` on ``url``, traps on a free loopback port."""
    output = folder / f"{name}.out"
    environment = {
        **console_environment(),
        "PROVISIONER_DATABASE_URL": url,
        "PROVISIONER_SECRETS_KEY": app.config["SECRETS_KEY"],
        "PROVISIONER_LOAD_DEMO_ON_EMPTY": "false",
        "PROVISIONER_INSTANCE": str(folder / "instance"),
        "PROVISIONER_NETWORK_TRAP_PORT": "0",
    }
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [str(console_script()), "poller", "--name", name, "--traps"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    started = PollerProcess(name, process, output)
    wait_until(lambda: "receiving traps" in started.text() or process.poll() is not None, 60, name)
    assert process.poll() is None, started.text()
    return started


def poll_records(app: Flask) -> list[NetworkPollRecord]:
    with get_store(app).reading() as session:
        return list(session.scalars(select(NetworkPollRecord).order_by(NetworkPollRecord.at)))


def by_device(records: list[NetworkPollRecord]) -> dict[int, list[NetworkPollRecord]]:
    grouped: dict[int, list[NetworkPollRecord]] = {}
    for record in records:
        grouped.setdefault(record.device_id, []).append(record)
    return grouped


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utc_now().tzinfo)


@pytest.fixture
def shared_inventory(
    tmp_path: Path, postgres_url: str, snmpd_agent: Snmpd, snmpsim_agent: Snmpsim
) -> Iterator[tuple[Flask, dict[str, int]]]:
    """Six devices polled every INTERVAL: four on snmpd, two recordings on snmpsim."""
    app = make_app(tmp_path, postgres_url)
    import_demo(app)
    devices = {
        name: add_device(app, **v2c_device(name, snmpd_agent.port, poll_interval=INTERVAL))
        for name in ("rt1", "rt2", "rt3", "rt4")
    }
    for community in ("voip-switch", "poe-switch"):
        fields = v2c_device(community, snmpsim_agent.port, community, poll_interval=INTERVAL)
        devices[community] = add_device(app, **fields)
    yield app, devices
    get_store(app).dispose()


@pytest.mark.parametrize("count", [2, 3])
def test_pollers_share_the_devices_and_take_over_from_a_killed_one(
    count: int, tmp_path: Path, postgres_url: str, shared_inventory: tuple[Flask, dict[str, int]]
) -> None:
    app, devices = shared_inventory
    pollers = [start_poller(app, postgres_url, f"poller-{n}", tmp_path) for n in range(count)]
    try:
        # Traps sent to any poller land in the one store.
        for poller in pollers:
            send_v2c(poller.trap_port(), "voip-switch", LINK_DOWN, IF_INDEX_3, "i", "3")
        wait_until(
            lambda: len(by_device(poll_records(app))) == len(devices), 60, "every device polled"
        )
        # Kill the first poller to store a poll of the second round, right then (while it may
        # hold other devices mid-poll): which poller takes which device is a race.
        first_round = len(poll_records(app))
        wait_until(lambda: len(poll_records(app)) > first_round, INTERVAL + 30, "a second round")
        victim_name = poll_records(app)[first_round].poller
        victim = next(poller for poller in pollers if poller.name == victim_name)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(timeout=10)
        killed_at = utc_now()
        # Every device, the killed poller's too, is polled by a survivor within one interval.
        wait_until(
            lambda: all(
                any(aware(record.at) > killed_at for record in records)
                for records in by_device(poll_records(app)).values()
            ),
            INTERVAL + 30,
            "every device polled after the kill",
        )
        records = poll_records(app)
        with get_store(app).reading() as session:
            traps = list(session.scalars(select(NetworkTrap)))
    finally:
        for poller in pollers:
            if poller.process.poll() is None:
                poller.process.send_signal(signal.SIGTERM)
        for poller in pollers:
            poller.process.wait(timeout=30)

    assert {trap.device_id for trap in traps} == {devices["voip-switch"]}
    assert len(traps) == count
    victims_devices = set()
    for device_id, polls in by_device(records).items():
        times = [aware(record.at) for record in polls]
        gaps = [
            (later - earlier).total_seconds()
            for earlier, later in zip(times, times[1:], strict=False)
        ]
        assert all(gap >= INTERVAL - SLACK for gap in gaps), (device_id, gaps)
        before = [record for record in polls if aware(record.at) <= killed_at]
        after = [record for record in polls if aware(record.at) > killed_at]
        assert {record.poller for record in after} <= {p.name for p in pollers} - {victim.name}
        if before and before[-1].poller == victim.name:
            victims_devices.add(device_id)
        # Within one interval of the kill (a poll the victim had in flight is lost: that
        # device waits for its next due time, one interval after the lost claim).
        taken = aware(after[0].at) - killed_at
        assert taken <= timedelta(seconds=INTERVAL + SLACK), (device_id, taken)
    assert victims_devices, "the killed poller held no device"
    for poller in pollers:
        if poller is not victim:
            assert poller.process.returncode == 0, poller.text()
            assert f"provisioner poller {poller.name}: stopped" in poller.text()
    assert victim.process.returncode == -signal.SIGKILL
