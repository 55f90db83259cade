"""Network fixtures: real agents (snmpd, snmpsim) on loopback, apps with devices in inventory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from provisioner.network import inventory
from provisioner.network.device_input import parse_device
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from tests.network.agents import Snmpd, Snmpsim, snmpsim_available
from tests.network.recordings import (
    REAL_SWITCHES,
    cisco_per_vlan,
    phone_switch,
    poe_switch,
    real_recording,
)


@pytest.fixture
def snmpd_agent(tmp_path: Path) -> Iterator[Snmpd]:
    """net-snmp snmpd on an ephemeral loopback port (v2c ``public``, v3 users in agents.py)."""
    agent = Snmpd(tmp_path / "snmpd").start()
    yield agent
    agent.stop()


@pytest.fixture(scope="session")
def snmpsim_agent() -> Iterator[Snmpsim]:
    """snmpsim serving our phone switch (``voip-switch``), the real switches of
    recordings.REAL_SWITCHES, each under its community, and the Catalyst per VLAN
    (``cisco-ios``, ``cisco-ios@<vlan>``; v3 contexts ``cisco-ios`` and ``vlan-<vlan>``)."""
    problem = snmpsim_available()
    if problem:
        pytest.fail(problem)
    recordings = {"voip-switch": phone_switch(), "poe-switch": poe_switch()}
    recordings.update({name: real_recording(file) for name, file in REAL_SWITCHES.items()})
    per_vlan = cisco_per_vlan("cisco-ios")
    recordings.update(per_vlan)
    # snmpsim picks a v3 context's file by name: the same tables as contexts vlan-<vlan>.
    recordings.update(
        {f"vlan-{name.partition('@')[2]}": text for name, text in per_vlan.items() if "@" in name}
    )
    agent = Snmpsim(recordings).start()
    yield agent
    agent.stop()


def add_device(app: Flask, tenant: str = "demo", **fields: Any) -> int:
    """Put a device in ``app``'s inventory (as the API would) and return its id."""
    device = parse_device(fields)
    with get_store(app).transaction() as session:
        return inventory.add_device(session, tenant, device, get_secret_box(app), "test").id


# Short timeouts, but retries: on a loaded 2-core machine snmpsim (Python) now and then needs
# more than 0.5 s for one answer, and a device that should be up was polled down (seen: 1 run
# in 4 at load average 8). Tests that expect a timeout pass ``retries=0``.
TEST_TIMEOUT = {"timeout": 0.5, "retries": 3}


def v2c_device(name: str, port: int, community: str = "public", **extra: Any) -> dict[str, Any]:
    """Fields of a v2c device on 127.0.0.1 with short timeouts."""
    return {
        "name": name,
        "role": "switch",
        "address": "127.0.0.1",
        "port": port,
        "community": community,
        **TEST_TIMEOUT,
        **extra,
    }


def v3_device(name: str, port: int, auth_key: str = "authpass-123", **extra: Any) -> dict[str, Any]:
    """Fields of a v3 authPriv (SHA/AES) device for snmpd's user ``monsha``."""
    return {
        "name": name,
        "role": "router",
        "address": "127.0.0.1",
        "port": port,
        "snmp_version": "3",
        "v3_user": "monsha",
        "auth_protocol": "SHA",
        "auth_key": auth_key,
        "priv_protocol": "AES",
        "priv_key": "privpass-123",
        **TEST_TIMEOUT,
        **extra,
    }
