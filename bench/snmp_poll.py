"""Benchmark: SNMP polls per second, our poller's collection against net-snmp's CLI.

Both sides poll the same net-snmp snmpd in the same run. Each loopback address the agent
listens on (127.0.0.2, 127.0.0.3, ...) is one simulated device. One poll of one device is:

- ours: `provisioner.network.collect.collect` (GET of the system group, then GETBULK walks of
  the interface, bridge, LLDP(-MED) and PoE columns) plus `build_state` (parsing and rates),
  on one long-lived pysnmp engine with ``--concurrency`` polls in flight;
- net-snmp: one `snmpget` of the same scalars and one `snmpbulkwalk -Cr<R>` per subtree
  (ifTable, ifXTable, dot1dBridge, LLDP remote table, PoE port table), one process each, the
  way LibreNMS polls, with ``--workers`` devices polled at once.

Prints polls per second of each and the ratio (ours / net-snmp), the client CPU per poll and
its ratio, and the load average (our side is one process; net-snmp's runs in several, so a busy
machine favours it). Nothing is stored.
Run: .venv/bin/python bench/snmp_poll.py [--devices 50] [--rounds 3] [--v3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provisioner.network import collect, oids  # noqa: E402
from provisioner.network.snmp import Credentials, SnmpClient, Target  # noqa: E402
from tests.network.agents import COMMUNITY, V3_USERS, Snmpd  # noqa: E402

SUBTREES = (
    "1.3.6.1.2.1.2.2",  # ifTable
    "1.3.6.1.2.1.31.1.1",  # ifXTable
    "1.3.6.1.2.1.17",  # BRIDGE-MIB and Q-BRIDGE-MIB
    "1.0.8802.1.1.2.1.4",  # LLDP remote systems
    "1.3.6.1.2.1.105.1.1",  # PoE ports
)
MAX_REPETITIONS = 25


def credentials(v3: bool) -> Credentials:
    """v2c ``public`` or snmpd's v3 user ``monsha`` (SHA/AES)."""
    if not v3:
        return Credentials("2c", community=COMMUNITY)
    auth, auth_key, priv, priv_key = V3_USERS["monsha"]
    return Credentials(
        "3",
        user="monsha",
        auth_protocol=auth,
        auth_key=auth_key,
        priv_protocol=priv,
        priv_key=priv_key,
    )


def cli_security(v3: bool) -> list[str]:
    """The same credentials as net-snmp command-line options."""
    if not v3:
        return ["-v2c", "-c", COMMUNITY]
    auth, auth_key, priv, priv_key = V3_USERS["monsha"]
    return [
        "-v3",
        "-l",
        "authPriv",
        "-u",
        "monsha",
        "-a",
        auth,
        "-A",
        auth_key,
        "-x",
        priv,
        "-X",
        priv_key,
    ]


async def ours(
    addresses: list[str], port: int, rounds: int, concurrency: int, v3: bool
) -> tuple[float, int]:
    """Polls per second of our collection, and varbinds in one round."""
    client = SnmpClient()
    limit = asyncio.Semaphore(concurrency)
    targets = [
        Target(
            address, port, credentials(v3), timeout=5, retries=1, max_repetitions=MAX_REPETITIONS
        )
        for address in addresses
    ]
    varbinds = 0

    async def poll(target: Target) -> int:
        async with limit:
            collected = await collect.collect(client, target)
            collect.build_state(collected.system, collected.walked, None)
            return len(collected.system) + sum(len(rows) for rows in collected.walked.values())

    await asyncio.gather(*(poll(target) for target in targets))  # warm-up: v3 discovery
    started = time.perf_counter()
    for _ in range(rounds):
        varbinds = sum(await asyncio.gather(*(poll(target) for target in targets)))
    elapsed = time.perf_counter() - started
    client.close()
    return len(targets) * rounds / elapsed, varbinds


def netsnmp_poll(address: str, port: int, v3: bool) -> int:
    """One poll with the net-snmp CLI; returns the varbinds read."""
    agent = f"{address}:{port}"
    security = cli_security(v3)
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


def netsnmp(
    addresses: list[str], port: int, rounds: int, workers: int, v3: bool
) -> tuple[float, int]:
    """Polls per second of the net-snmp CLI, and varbinds in one round."""
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda address: netsnmp_poll(address, port, v3), addresses))  # warm-up
        started = time.perf_counter()
        varbinds = 0
        for _ in range(rounds):
            varbinds = sum(pool.map(lambda address: netsnmp_poll(address, port, v3), addresses))
        elapsed = time.perf_counter() - started
    return len(addresses) * rounds / elapsed, varbinds


def cpu_seconds() -> float:
    """CPU used by this process and its finished children so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def agent_cpu_seconds(agent: Snmpd) -> float:
    """CPU used by the agent so far (utime + stime from /proc)."""
    assert agent.process is not None
    fields = Path(f"/proc/{agent.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Start the agent, measure both sides, print the figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="net-snmp devices at once")
    parser.add_argument("--v3", action="store_true", help="SNMPv3 authPriv SHA/AES")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    addresses = [f"127.0.{n // 250 + 1}.{n % 250 + 2}" for n in range(arguments.devices)]
    with tempfile.TemporaryDirectory(prefix="snmp-bench-") as folder:
        agent = Snmpd(Path(folder), addresses=["127.0.0.1", *addresses]).start()
        try:
            cpu, agent_cpu = cpu_seconds(), agent_cpu_seconds(agent)
            our_rate, our_varbinds = asyncio.run(
                ours(addresses, agent.port, arguments.rounds, arguments.concurrency, arguments.v3)
            )
            our_cpu, our_agent_cpu = cpu_seconds() - cpu, agent_cpu_seconds(agent) - agent_cpu
            cpu, agent_cpu = cpu_seconds(), agent_cpu_seconds(agent)
            cli_rate, cli_varbinds = netsnmp(
                addresses, agent.port, arguments.rounds, arguments.workers, arguments.v3
            )
            cli_cpu, cli_agent_cpu = cpu_seconds() - cpu, agent_cpu_seconds(agent) - agent_cpu
        finally:
            agent.stop()
    polls = arguments.devices * (arguments.rounds + 1)
    result = {
        "devices": arguments.devices,
        "rounds": arguments.rounds,
        "snmp": "v3 authPriv SHA/AES" if arguments.v3 else "v2c",
        "ours_polls_per_second": round(our_rate, 1),
        "ours_varbinds_per_poll": our_varbinds // arguments.devices,
        "ours_client_cpu_ms_per_poll": round(our_cpu / polls * 1000, 1),
        "ours_agent_cpu_ms_per_poll": round(our_agent_cpu / polls * 1000, 1),
        "netsnmp_polls_per_second": round(cli_rate, 1),
        "netsnmp_varbinds_per_poll": cli_varbinds // arguments.devices,
        "netsnmp_client_cpu_ms_per_poll": round(cli_cpu / polls * 1000, 1),
        "netsnmp_agent_cpu_ms_per_poll": round(cli_agent_cpu / polls * 1000, 1),
        "ratio_ours_to_netsnmp": round(our_rate / cli_rate, 2),
        "client_cpu_ratio_ours_to_netsnmp": round(our_cpu / cli_cpu, 2) if cli_cpu else None,
        "load_average_1min": round(os.getloadavg()[0], 1),
    }
    if arguments.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:32} {value}")


if __name__ == "__main__":
    main()
