"""What one poll of one device gathers, as plain data for the store.

`collect` is the only async step; `build_state` is pure and turns the walked columns into the
JSON the store keeps (system, interfaces with rates, forwarding table, LLDP(-MED), PoE).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from provisioner.errors import SnmpFailure
from provisioner.network import oids, parse, rates, vlans
from provisioner.network.oids import Oid
from provisioner.network.snmp import SnmpReader, Target
from provisioner.network.vendors import vendor_for

Walked = dict[str, dict[Oid, parse.Value]]
# Column groups walked one after the other (one request in flight per device).
GROUPS: dict[str, dict[str, Oid]] = {
    "interfaces": oids.INTERFACE_COLUMNS,
    "bridge": oids.BRIDGE_COLUMNS,
    "lldp": {
        **oids.LLDP_COLUMNS,
        **oids.LLDP_MED_COLUMNS,
        **{f"policy_{name}": column for name, column in oids.LLDP_MED_POLICY_COLUMNS.items()},
    },
    "poe": oids.POE_COLUMNS,
}
# What support calls each group's table ("switch X's forwarding table is incomplete: ...").
TABLE_NAMES = {
    "interfaces": "interface table",
    "bridge": "forwarding table",
    "lldp": "LLDP neighbour table",
    "poe": "PoE table",
}

# The column whose absence means a group's table is not there at all.
PROBES = {"lldp": "chassis_id", "poe": "detection_status"}


@dataclass(frozen=True, slots=True)
class Collected:
    """One poll's raw data: the system group, the walked columns, and the tables that are
    incomplete with why (a walk cut short, a table or a VLAN the agent refused)."""

    system: dict[str, parse.Value]
    walked: Walked
    incomplete: dict[str, str] = field(default_factory=dict)


async def collect(client: SnmpReader, target: Target) -> Collected:
    """GET the system group (the liveness check), then walk every column group."""
    scalars = await client.get(target, list(oids.SYSTEM_SCALARS.values()))
    system = {name: scalars.get(value) for name, value in oids.SYSTEM_SCALARS.items()}
    walked: Walked = {}
    incomplete: dict[str, str] = {}
    for group, columns in GROUPS.items():
        probe = PROBES.get(group)
        if probe is not None and not await client.bulk_has_rows(target, columns[probe]):
            continue  # most routers have no LLDP or PoE table: one small request, not 26 columns
        problem = await walk_group(client, target, group, columns, walked)
        if problem:
            incomplete[group] = problem
    per_vlan = vendor_for(parse.text(system["object_id"])).per_vlan_bridge
    if per_vlan is not None:
        problem = await vlans.collect_per_vlan(client, target, per_vlan, walked)
        if problem:
            incomplete["bridge"] = "; ".join(filter(None, (incomplete.get("bridge"), problem)))
    return Collected(system, walked, incomplete)


async def walk_group(
    client: SnmpReader, target: Target, group: str, columns: Mapping[str, Oid], walked: Walked
) -> str:
    """Walk one group's columns into ``walked``; why the table is incomplete ("" if it is not).

    An agent error for a table (noAccess, genErr ...) leaves that table empty and the rest of
    the poll goes on; silence or a refused credential still fails the whole poll.
    """
    try:
        result = await client.walk(target, list(columns.values()))
    except SnmpFailure as failure:
        if failure.kind != "error":
            raise
        for name in columns:
            walked[f"{group}.{name}"] = {}
        return f"the agent refused it ({failure.reason})"
    for name, column in columns.items():
        walked[f"{group}.{name}"] = result.rows[column]
    # Several columns usually share one cause; say each cause once.
    return "; ".join(dict.fromkeys(result.problems.values()))


def group_table(walked: Mapping[str, Mapping[Oid, parse.Value]], group: str) -> parse.Table:
    """The columns of one group, by their short names."""
    prefix = f"{group}."
    return {name[len(prefix) :]: rows for name, rows in walked.items() if name.startswith(prefix)}


def build_state(
    system_values: Mapping[str, parse.Value],
    walked: Mapping[str, Mapping[Oid, parse.Value]],
    previous: Mapping[str, Any] | None,
    wall_seconds: float | None = None,
    *,
    incomplete: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The device's new state: parsed tables plus rates against ``previous``; ``incomplete``
    (group -> why) is kept by table name, for diagnose to repeat."""
    system = parse.parse_system(system_values)
    vendor = vendor_for(system["object_id"])
    interfaces = [
        asdict(item) for item in parse.parse_interfaces(group_table(walked, "interfaces"))
    ]
    bridge = group_table(walked, "bridge")
    base_ports = parse.base_port_map(bridge.get("base_port_if_index", {}))
    if_indexes = {item["if_index"] for item in interfaces}
    clock = rates.Clock(
        wall_seconds=time.time() if wall_seconds is None else wall_seconds,
        uptime_ticks=system["uptime_ticks"],
        engine_boots=system["engine_boots"],
        engine_time=system["engine_time"],
    )
    interface_rates, restarted = rates.derive_all(previous, clock, interfaces)
    for item in interfaces:
        item["rates"] = interface_rates.get(item["if_index"], {})
    poe = parse.parse_poe(
        group_table(walked, "poe"), base_ports, if_indexes, vendor.poe_port_mapping
    )
    return {
        "system": system,
        "vendor": vendor.name,
        "clock": asdict(clock),
        "restarted": restarted,
        "interfaces": interfaces,
        "bridge_ports": {str(port): if_index for port, if_index in base_ports.items()},
        "fdb": [asdict(entry) for entry in parse.parse_fdb(bridge)],
        "lldp": [
            asdict(item) for item in parse.parse_lldp(group_table(walked, "lldp"), base_ports)
        ],
        "poe": [asdict(item) for item in poe],
        "poe_supplies": [
            asdict(item) for item in parse.parse_power_supplies(group_table(walked, "poe"))
        ],
        "incomplete": {TABLE_NAMES[group]: why for group, why in (incomplete or {}).items()},
    }


def incomplete_text(incomplete: Mapping[str, str]) -> str:
    """The reason a poll is partial: ``forwarding table is incomplete: ...``, table by table."""
    return "; ".join(
        f"{TABLE_NAMES.get(group, group)} is incomplete: {why}" for group, why in incomplete.items()
    )


def poll_summary(state: Mapping[str, Any]) -> dict[str, Any]:
    """What the bounded history keeps of one poll: uptime, restart, per-interface status/rates."""
    return {
        "uptime_ticks": state["system"]["uptime_ticks"],
        "restarted": state["restarted"],
        "interfaces": {
            str(item["if_index"]): {"oper_status": item["oper_status"], **item["rates"]}
            for item in state["interfaces"]
        },
        "fdb_entries": len(state["fdb"]),
        "lldp_neighbours": len(state["lldp"]),
        "incomplete": state.get("incomplete", {}),
    }
