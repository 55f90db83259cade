"""Forwarding tables read once per VLAN, for vendors whose BRIDGE-MIB shows one VLAN at a time.

The vendor module says how (`PerVlanBridge`): where the VLAN list is and how a VLAN's
community or v3 context is spelt. Each VLAN's dot1dTpFdb rows land in ``bridge.vlan_fdb_*``
columns indexed ``[vlan, mac(6)]`` (the shape of Q-BRIDGE's), its bridge ports in the common
``bridge.base_port_if_index``. The first VLAN the agent refuses ends the round, with the VLANs
left unread in the reason: every further one would cost a full timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from provisioner.errors import SnmpFailure
from provisioner.network import oids, parse
from provisioner.network.oids import Oid
from provisioner.network.snmp import Credentials, SnmpReader, Target
from provisioner.network.vendors.base import PerVlanBridge

Walked = dict[str, dict[Oid, parse.Value]]
# dot1dBasePortIfIndex, dot1dTpFdbPort, dot1dTpFdbStatus, in this order.
VLAN_COLUMNS = [
    oids.BRIDGE_COLUMNS["base_port_if_index"],
    oids.BRIDGE_COLUMNS["fdb_port"],
    oids.BRIDGE_COLUMNS["fdb_status"],
]


def vlans_to_read(states: Mapping[Oid, parse.Value], bridge: PerVlanBridge) -> list[int]:
    """The operational VLANs of a vtpVlanState column ([domain, vlan] -> state), in order."""
    return sorted(
        {
            index[-1]
            for index, state in states.items()
            if len(index) == 2 and state == bridge.operational
        }
        - bridge.skipped_vlans
    )


def vlan_credentials(credentials: Credentials, bridge: PerVlanBridge, vlan: int) -> Credentials:
    """The credentials that show VLAN ``vlan``'s table: community@vlan (v2c), a context (v3)."""
    if credentials.version == "3":
        return replace(credentials, context=bridge.context_format.format(vlan=vlan))
    community = bridge.community_format.format(community=credentials.community or "", vlan=vlan)
    return replace(credentials, community=community)


def how_asked(credentials: Credentials, bridge: PerVlanBridge, vlan: int) -> str:
    """How VLAN ``vlan`` was asked for, without the secret: ``community@20`` or a context."""
    if credentials.version == "3":
        return f"v3 context {bridge.context_format.format(vlan=vlan)}"
    return bridge.community_format.format(community="community", vlan=vlan)


async def collect_per_vlan(
    client: SnmpReader, target: Target, bridge: PerVlanBridge, walked: Walked
) -> str:
    """Read every operational VLAN's forwarding table into ``walked``; why it is incomplete."""
    states = await client.walk(target, [bridge.vlan_states])
    vlans = vlans_to_read(states.rows[bridge.vlan_states], bridge)
    for name in ("vlan_fdb_port", "vlan_fdb_status"):
        walked[f"bridge.{name}"] = {}
    problems = [f"VLAN list: {why}" for why in states.problems.values()]
    for position, vlan in enumerate(vlans):
        credentials = vlan_credentials(target.credentials, bridge, vlan)
        try:
            result = await client.walk(replace(target, credentials=credentials), VLAN_COLUMNS)
        except SnmpFailure as failure:
            asked = how_asked(target.credentials, bridge, vlan)
            unread = ", ".join(str(number) for number in vlans[position:])
            problems.append(
                f"the agent refused or ignored {asked} ({failure.kind}: {failure.reason}); "
                f"VLAN(s) {unread} not read"
            )
            break
        merge_vlan(walked, vlan, result.rows)
        problems += [f"VLAN {vlan}: {why}" for why in dict.fromkeys(result.problems.values())]
    return "; ".join(problems)


def merge_vlan(walked: Walked, vlan: int, rows: Mapping[Oid, Mapping[Oid, parse.Value]]) -> None:
    """Add one VLAN's bridge ports and forwarding rows to the poll's columns."""
    base_port_column, port_column, status_column = VLAN_COLUMNS
    base_ports = walked.setdefault("bridge.base_port_if_index", {})
    for index, value in rows[base_port_column].items():
        base_ports.setdefault(index, value)
    for name, column in (("vlan_fdb_port", port_column), ("vlan_fdb_status", status_column)):
        for index, value in rows[column].items():
            walked[f"bridge.{name}"][(vlan, *index)] = value
