"""Real switches (snmpsim-data recordings): what we collect equals net-snmp's walk, table by table.

net-snmp's ``snmpbulkwalk -Cc`` (do not stop at an OID that is not increasing) is the reference:
on an agent that answers out of order (bdcom-s5612) it reads every row, and so must we, and say
that the agent misbehaved. Each recording is served by one snmpsim under its own community.
"""

from __future__ import annotations

import asyncio
import re
import subprocess

import pytest

from provisioner.network import collect, oids
from provisioner.network.snmp import Credentials, SnmpClient, Target
from tests.network.agents import Snmpsim

SWITCHES = [
    "bdcom-s5612",
    "brocade-icx6430-24",
    "dlink-des3200",
    "cisco-n5000",
    "ruijie-s5750-24gt12sfp",
    "h3c-e528-2",
]
# The tables the poller reads, by the OID net-snmp walks.
TABLES = {
    "ifTable": "1.3.6.1.2.1.2.2",
    "ifXTable": "1.3.6.1.2.1.31.1.1",
    "dot1dBasePortTable": "1.3.6.1.2.1.17.1.4",
    "dot1dTpFdbTable": "1.3.6.1.2.1.17.4.3",
    "dot1qTpFdbTable": "1.3.6.1.2.1.17.7.1.2.2",
    "dot1qVlanCurrentTable": "1.3.6.1.2.1.17.7.1.4.2",
    "lldpLocPortTable": "1.0.8802.1.1.2.1.3.7",
    "lldpRemTable": "1.0.8802.1.1.2.1.4.1",
    "lldpXMedRemTables": "1.0.8802.1.1.2.1.5.4795.1.3",
    "pethPsePortTable": "1.3.6.1.2.1.105.1.1",
    "pethMainPseTable": "1.3.6.1.2.1.105.1.3",
}
IPV4 = re.compile(r"\d+\.\d+\.\d+\.\d+")


def net_snmp_walk(port: int, community: str, table: str) -> dict[str, str]:
    """``snmpbulkwalk -Cc`` of one table: numeric OID -> value (octet strings in hex)."""
    result = subprocess.run(
        ["snmpbulkwalk", "-v2c", "-c", community, "-t", "2", "-r", "3"]
        + ["-On", "-Oq", "-Ox", "-Ot", "-Oe", "-Cc", f"127.0.0.1:{port}", table],
        capture_output=True,
        text=True,
        check=True,
    )
    rows: dict[str, str] = {}
    last = ""
    for line in result.stdout.splitlines():
        if "No more variables left" in line:
            # endOfMibView at the end of the agent's tree (after the last row, not a row)
            last = ""
        elif line.startswith("."):
            last, _, value = line[1:].partition(" ")
            rows[last] = value
        elif last:  # net-snmp wraps long hex strings onto further lines
            rows[last] += " " + line
    return {name: normal(value) for name, value in rows.items() if "No Such" not in value}


def normal(value: str) -> str:
    """net-snmp's printed value in one spelling: hex octets without spaces, numbers as is."""
    value = value.strip()
    if value.startswith('"'):
        return value.strip('"').replace(" ", "").upper()
    if IPV4.fullmatch(value):
        return bytes(int(part) for part in value.split(".")).hex().upper()
    return value


def ours(value: object) -> str:
    """One of our collected values in net-snmp's spelling (see normal)."""
    if isinstance(value, bytes):
        return value.hex().upper()
    if isinstance(value, tuple):
        return "." + oids.dotted(value)
    return str(value)


def collected_rows(agent: Snmpsim, community: str) -> tuple[collect.Collected, dict[str, str]]:
    """Poll one recording as the poller does; every walked row by its full numeric OID."""

    async def poll() -> collect.Collected:
        client = SnmpClient()
        try:
            # Retries for a busy machine; a silent VLAN community costs (1 + 2) x 1 s.
            target = Target("127.0.0.1", agent.port, Credentials("2c", community), 1.0, 2)
            return await collect.collect(client, target)
        finally:
            client.close()

    collected = asyncio.run(poll())
    columns = {
        f"{group}.{name}": column
        for group, named in collect.GROUPS.items()
        for name, column in named.items()
    }
    rows = {
        oids.dotted(columns[name] + index): ours(value)
        for name, walked in collected.walked.items()
        if name in columns
        for index, value in walked.items()
    }
    return collected, rows


# None of the six has a PoE table: poe-switch (recordings.poe_switch) is built by RFC 3621.
@pytest.mark.parametrize("switch", [*SWITCHES, "poe-switch"])
def test_every_table_equals_net_snmp_walk(switch: str, snmpsim_agent: Snmpsim) -> None:
    collected, rows = collected_rows(snmpsim_agent, switch)
    walked_columns = [
        oids.dotted(column)
        for group, named in collect.GROUPS.items()
        for name, column in named.items()
        if f"{group}.{name}" in collected.walked
    ]
    compared = 0
    for table, prefix in TABLES.items():
        reference = {
            name: value
            for name, value in net_snmp_walk(snmpsim_agent.port, switch, prefix).items()
            if any(name.startswith(column + ".") for column in walked_columns)
        }
        mine = {name: value for name, value in rows.items() if name.startswith(prefix + ".")}
        assert mine == reference, f"{switch} {table}"
        compared += len(reference)
    assert compared > 100  # the recordings are real switches with real tables


def test_an_agent_out_of_order_gives_every_row_and_says_so(snmpsim_agent: Snmpsim) -> None:
    collected, rows = collected_rows(snmpsim_agent, "bdcom-s5612")
    q_fdb = collected.walked["bridge.q_fdb_port"]
    assert len(q_fdb) == 721  # net-snmp -Cc reads 721; stopping at the first step back kept 1
    assert "out of order" in collected.incomplete["bridge"]
    assert "interfaces" not in collected.incomplete  # its interface table is in order


def test_agents_in_order_are_complete(snmpsim_agent: Snmpsim) -> None:
    for switch in ("brocade-icx6430-24", "dlink-des3200", "h3c-e528-2"):
        collected, _ = collected_rows(snmpsim_agent, switch)
        assert collected.incomplete == {}, switch


def test_nexus_without_vlan_communities_is_incomplete_and_its_lldp_ids_are_text(
    snmpsim_agent: Snmpsim,
) -> None:
    collected, _ = collected_rows(snmpsim_agent, "cisco-n5000")
    # NX-OS answers community@vlan only where configured; this recording has none.
    assert "the agent refused or ignored community@1" in collected.incomplete["bridge"]
    assert "VLAN(s) 1, 50, 52" in collected.incomplete["bridge"]
    state = collect.build_state(
        collected.system, collected.walked, None, incomplete=collected.incomplete
    )
    port_ids = [neighbour["port_id"] for neighbour in state["lldp"]]
    assert "mgmt0" in port_ids  # sent as "mgmt0" and 11 NULs
    assert state["incomplete"] == {"forwarding table": collected.incomplete["bridge"]}
