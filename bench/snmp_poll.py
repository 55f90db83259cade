"""Benchmark: SNMP polls per second, our poller against net-snmp's CLI, up to provider scale.

Every simulated device is one loopback address (127.0.1.2, 127.0.1.3, ...) that a net-snmp
snmpd listens on; one snmpd serves at most AGENT_ADDRESSES of them, so 5,000 devices are 50
snmpd processes, and every poll is a real UDP SNMP exchange. In the same run:

- ours: `provisioner.network.collect.collect` (GET of the system group, then GETBULK walks of
  the interface, bridge, LLDP(-MED) and PoE columns) plus `build_state` (parsing and rates),
  on one long-lived client with ``--concurrency`` polls in flight, as the poller runs it;
- net-snmp: one `snmpget` of the same scalars and one `snmpbulkwalk -Cr<R>` per subtree
  (ifTable, ifXTable, dot1dBridge, LLDP remote table, PoE port table), one process each, the
  way LibreNMS polls, with ``--workers`` devices polled at once;
- with ``--service``: the real `provisioner poller` command (leases, PostgreSQL, a poll record
  per device) given every device at once, due now, with a 300 s interval; the wall time until
  each has been polled and stored once, and the CPU the poller process used for it.

Prints polls per second of each, the ratios (ours / net-snmp), the client CPU per poll, and
the load average (our side is one process; net-snmp's runs in several, so a busy machine
favours it). ``--pin`` puts the agents on the last CPU and every client on the first: then
"one core" is literally one core.
Run: .venv/bin/python bench/snmp_poll.py [--devices 50] [--rounds 3] [--v3] [--service]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loopback import tree_cpu_seconds  # noqa: E402

from provisioner.network import collect, oids  # noqa: E402
from provisioner.network.snmp import Credentials, SnmpClient, Target  # noqa: E402
from tests.network.agents import (  # noqa: E402
    COMMUNITY,
    V3_USERS,
    Snmpd,
    Snmpsim,
    snmpsim_available,
)
from tests.network.recordings import REAL_SWITCHES, real_recording  # noqa: E402

SUBTREES = (
    "1.3.6.1.2.1.2.2",  # ifTable
    "1.3.6.1.2.1.31.1.1",  # ifXTable
    "1.3.6.1.2.1.17",  # BRIDGE-MIB and Q-BRIDGE-MIB
    "1.0.8802.1.1.2.1.4",  # LLDP remote systems
    "1.3.6.1.2.1.105.1.1",  # PoE ports
)
MAX_REPETITIONS = 25
# snmpd reads its listening addresses from one configuration string of about 2,500
# characters and silently drops those past it (121 of 201 bound): 100 per snmpd is safe.
AGENT_ADDRESSES = 100
# The first devices polled once, untimed, by each side (imports, v3 discovery of those).
WARM_UP_DEVICES = 50


@dataclass(frozen=True, slots=True)
class Device:
    """One simulated device: a loopback address, the port its agent listens on, its v2c
    community (snmpsim: the recording's name)."""

    address: str
    port: int
    community: str = COMMUNITY


def start_switches(recording: str, count: int) -> tuple[list[Snmpsim], list[Device]]:
    """One snmpsim serving a real switch's recording as ``count`` devices, one community
    each (only the client's CPU per poll means much here: snmpsim is slow Python)."""
    if recording not in REAL_SWITCHES:
        raise SystemExit(f"--recording: one of {', '.join(REAL_SWITCHES)}, not {recording!r}")
    problem = snmpsim_available()
    if problem:
        raise SystemExit(problem)
    text = real_recording(REAL_SWITCHES[recording])
    agent = Snmpsim({f"{recording}-{n}": text for n in range(count)}).start()
    return [agent], [Device("127.0.0.1", agent.port, f"{recording}-{n}") for n in range(count)]


def start_agents(folder: Path, count: int) -> tuple[list[Snmpd], list[Device]]:
    """Enough snmpd processes for ``count`` devices, each on its own loopback address."""
    addresses = [f"127.0.{n // 250 + 1}.{n % 250 + 2}" for n in range(count)]
    agents: list[Snmpd] = []
    devices: list[Device] = []
    try:
        for start in range(0, count, AGENT_ADDRESSES):
            mine = addresses[start : start + AGENT_ADDRESSES]
            agent = Snmpd(folder / f"snmpd-{start // AGENT_ADDRESSES}", addresses=mine)
            # The agent answers its readiness probe on 127.0.0.1 too.
            agent.addresses = ["127.0.0.1", *mine]
            agents.append(agent.start())
            devices += [Device(address, agent.port) for address in mine]
    except BaseException:
        stop_agents(agents)
        raise
    return agents, devices


def stop_agents(agents: Sequence[Snmpd | Snmpsim]) -> None:
    """Stop every agent started."""
    for agent in agents:
        agent.stop()


def credentials(device: Device, v3: bool) -> Credentials:
    """v2c with the device's community, or snmpd's v3 user ``monsha`` (SHA/AES)."""
    if not v3:
        return Credentials("2c", community=device.community)
    auth, auth_key, priv, priv_key = V3_USERS["monsha"]
    return Credentials(
        "3",
        user="monsha",
        auth_protocol=auth,
        auth_key=auth_key,
        priv_protocol=priv,
        priv_key=priv_key,
    )


def cli_security(device: Device, v3: bool) -> list[str]:
    """The same credentials as net-snmp command-line options."""
    if not v3:
        return ["-v2c", "-c", device.community]
    auth, auth_key, priv, priv_key = V3_USERS["monsha"]
    user = ["-v3", "-l", "authPriv", "-u", "monsha"]
    return [*user, "-a", auth, "-A", auth_key, "-x", priv, "-X", priv_key]


async def ours(devices: list[Device], rounds: int, concurrency: int, v3: bool) -> tuple[float, int]:
    """Polls per second of our collection, and varbinds in one round."""
    client = SnmpClient()
    limit = asyncio.Semaphore(concurrency)
    targets = [
        Target(
            device.address,
            device.port,
            credentials(device, v3),
            timeout=5,
            retries=1,
            max_repetitions=MAX_REPETITIONS,
        )
        for device in devices
    ]

    async def poll(target: Target) -> int:
        async with limit:
            collected = await collect.collect(client, target)
            collect.build_state(collected.system, collected.walked, None)
            return len(collected.system) + sum(len(rows) for rows in collected.walked.values())

    await asyncio.gather(*(poll(target) for target in targets[:WARM_UP_DEVICES]))
    varbinds = 0
    started = time.perf_counter()
    for _ in range(rounds):
        varbinds = sum(await asyncio.gather(*(poll(target) for target in targets)))
    elapsed = time.perf_counter() - started
    client.close()
    return len(targets) * rounds / elapsed, varbinds


def netsnmp_poll(device: Device, v3: bool) -> int:
    """One poll with the net-snmp CLI; returns the varbinds read."""
    agent = f"{device.address}:{device.port}"
    security = cli_security(device, v3)
    scalars = [oids.dotted(value) for value in oids.SYSTEM_SCALARS.values()]
    commands = [["snmpget", *security, "-On", "-Oq", agent, *scalars]]
    commands += [
        ["snmpbulkwalk", *security, "-On", "-Oq", f"-Cr{MAX_REPETITIONS}", agent, tree]
        for tree in SUBTREES
    ]
    lines = 0
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
        lines += result.stdout.count("\n")
    return lines


def netsnmp(devices: list[Device], rounds: int, workers: int, v3: bool) -> tuple[float, int]:
    """Polls per second of the net-snmp CLI, and varbinds in one round."""
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda device: netsnmp_poll(device, v3), devices[:WARM_UP_DEVICES]))
        started = time.perf_counter()
        varbinds = 0
        for _ in range(rounds):
            varbinds = sum(pool.map(lambda device: netsnmp_poll(device, v3), devices))
        elapsed = time.perf_counter() - started
    return len(devices) * rounds / elapsed, varbinds


def cpu_seconds() -> float:
    """CPU used by this process and its finished children so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def agents_cpu_seconds(agents: Sequence[Snmpd | Snmpsim]) -> float:
    """CPU used by all agents so far."""
    return sum(tree_cpu_seconds(agent.process.pid) for agent in agents if agent.process)


def pin(agents: Sequence[Snmpd | Snmpsim]) -> None:
    """Agents on the last CPU; this process, and so every client it starts, on the first."""
    last = max(os.sched_getaffinity(0))
    for agent in agents:
        if agent.process is not None:
            os.sched_setaffinity(agent.process.pid, {last})
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def measure_side(
    name: str, run: Any, agents: Sequence[Snmpd | Snmpsim], polls: int
) -> dict[str, float | int]:
    """Run one side; its polls per second, varbinds per poll, client and agent CPU per poll."""
    cpu, agent_cpu, load = cpu_seconds(), agents_cpu_seconds(agents), os.getloadavg()[0]
    rate, varbinds = run()
    cpu, agent_cpu = cpu_seconds() - cpu, agents_cpu_seconds(agents) - agent_cpu
    return {
        f"{name}_polls_per_second": round(rate, 1),
        f"{name}_varbinds_per_poll": varbinds,
        f"{name}_client_cpu_ms_per_poll": round(cpu / polls * 1000, 2),
        f"{name}_agent_cpu_ms_per_poll": round(agent_cpu / polls * 1000, 2),
        f"{name}_load_average_before": round(load, 1),
    }


def main() -> None:
    """Start the agents, measure both sides (and the service), print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=50, help="ours: polls in flight")
    parser.add_argument("--workers", type=int, default=4, help="net-snmp: devices at once")
    parser.add_argument("--v3", action="store_true", help="SNMPv3 authPriv SHA/AES")
    parser.add_argument("--pin", action="store_true", help="agents on one CPU, clients on another")
    parser.add_argument(
        "--sides",
        type=lambda text: set(text.split(",")),
        default={"ours", "netsnmp"},
        help="comma-separated, of ours,netsnmp,service (default ours,netsnmp)",
    )
    parser.add_argument(
        "--service",
        action="store_true",
        help="add the service: one interval of the `provisioner poller` command",
    )
    parser.add_argument("--database-url", default=None, help="service: PostgreSQL base URL")
    parser.add_argument(
        "--profile", metavar="FILE", help="service: py-spy the poller, raw stacks to FILE"
    )
    parser.add_argument(
        "--recording",
        help="devices served by snmpsim from this real switch's recording (v2c), e.g. "
        "hpe-procurve, instead of snmpd",
    )
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    if arguments.service:
        arguments.sides |= {"service"}
    unknown = arguments.sides - {"ours", "netsnmp", "service"}
    if unknown:
        parser.error(f"--sides: no side {', '.join(sorted(unknown))} (ours, netsnmp, service)")
    # SIGTERM stops the agents too (the finally below), not only this process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    devices_count = arguments.devices
    with tempfile.TemporaryDirectory(prefix="snmp-bench-") as folder:
        agents: Sequence[Snmpd | Snmpsim]
        if arguments.recording:
            agents, devices = start_switches(arguments.recording, devices_count)
        else:
            agents, devices = start_agents(Path(folder), devices_count)
        try:
            if arguments.pin:
                pin(agents)
            result = measure(arguments, agents, devices, Path(folder))
        finally:
            stop_agents(agents)
    if arguments.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:36} {value}")


def measure(
    arguments: argparse.Namespace,
    agents: Sequence[Snmpd | Snmpsim],
    devices: list[Device],
    folder: Path,
) -> dict[str, Any]:
    """The sides asked for, one after the other on the same agents; then the ratios."""
    polls = len(devices) * arguments.rounds + min(WARM_UP_DEVICES, len(devices))
    result: dict[str, Any] = {
        "devices": len(devices),
        "agents": len(agents),
        "rounds": arguments.rounds,
        "snmp": "v3 authPriv SHA/AES" if arguments.v3 else "v2c",
        "pinned": arguments.pin,
    }
    rounds, v3 = arguments.rounds, arguments.v3
    if "ours" in arguments.sides:
        run = lambda: asyncio.run(ours(devices, rounds, arguments.concurrency, v3))  # noqa: E731
        result |= measure_side("ours", run, agents, polls)
        result["ours_varbinds_per_poll"] //= len(devices)
    if "netsnmp" in arguments.sides:
        run = lambda: netsnmp(devices, rounds, arguments.workers, v3)  # noqa: E731
        result |= measure_side("netsnmp", run, agents, polls)
        result["netsnmp_varbinds_per_poll"] //= len(devices)
    if "service" in arguments.sides:
        from snmp_service import measure_interval

        result |= measure_interval(devices, arguments, folder)
    result |= ratios(result)
    result["load_average_after"] = round(os.getloadavg()[0], 1)
    return result


def ratios(result: dict[str, Any]) -> dict[str, float]:
    """Ours and the service against net-snmp, for the sides measured."""
    found = {}
    cli_rate = result.get("netsnmp_polls_per_second")
    cli_cpu = result.get("netsnmp_client_cpu_ms_per_poll")
    if cli_rate and "ours_polls_per_second" in result:
        found["ratio_ours_to_netsnmp"] = round(result["ours_polls_per_second"] / cli_rate, 2)
        found["client_cpu_ratio_ours_to_netsnmp"] = round(
            result["ours_client_cpu_ms_per_poll"] / cli_cpu, 2
        )
    if cli_rate and result.get("service_polls_per_second"):
        found["ratio_service_to_netsnmp"] = round(result["service_polls_per_second"] / cli_rate, 2)
    return found


if __name__ == "__main__":
    main()
