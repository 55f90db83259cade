"""Pure parsing: walked SNMP columns -> interfaces, forwarding table, LLDP(-MED), PoE.

The pysnmp edge (`provisioner.network.snmp`) hands over plain Python values: ``int`` for
integers, counters, gauges and time ticks, ``bytes`` for octet strings, ``tuple[int, ...]`` for
object identifiers. A walked column is a mapping from the row index (the OID suffix) to its value.
Nothing here does I/O, so every rule is tested without an agent.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioner.network import oids

Value = int | bytes | tuple[int, ...] | None
Column = Mapping[tuple[int, ...], Value]
Table = Mapping[str, Column]
LEARNED = 3
MED_TEXT_FIELDS = (
    "hardware_revision",
    "firmware_revision",
    "software_revision",
    "serial_number",
    "manufacturer",
    "model",
    "asset_id",
)


@dataclass(frozen=True, slots=True)
class Interface:
    """One row of ifTable/ifXTable."""

    if_index: int
    name: str
    descr: str = ""
    alias: str = ""
    admin_status: str = "unknown"
    oper_status: str = "unknown"
    speed_bps: int | None = None
    counters: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FdbEntry:
    """A MAC learned on a bridge port (BRIDGE-MIB or Q-BRIDGE-MIB)."""

    mac: str
    base_port: int
    if_index: int
    vlan: int | None = None
    source: str = "q-bridge"
    fdb_id: int | None = None


@dataclass(frozen=True, slots=True)
class LldpNeighbour:
    """A remote LLDP system seen on a local port, with LLDP-MED inventory when it sent some."""

    local_port: int
    if_index: int
    chassis_id: str
    port_id: str
    port_descr: str = ""
    sys_name: str = ""
    sys_descr: str = ""
    capabilities: list[str] = field(default_factory=list)
    med: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PoePort:
    """One PSE port of POWER-ETHERNET-MIB, mapped to an ifIndex where we can."""

    group: int
    port: int
    if_index: int | None
    admin_enabled: bool | None
    detection: str
    power_class: str | None = None
    priority: str | None = None
    # Fault counters the agent gives (overload, short, power_denied, ...), zeros included.
    faults: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PowerSupply:
    """One PSE (pethMainPseTable): its budget, its state and what its ports draw now."""

    group: int
    power_watts: int | None
    status: str
    consumption_watts: int | None


def text(value: Value) -> str:
    """An octet string as text (undecodable bytes replaced), anything else as its str."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").rstrip("\x00")
    if isinstance(value, tuple):
        return oids.dotted(value)
    return "" if value is None else str(value)


def number(value: Value) -> int | None:
    """An integer value, or None when the agent sent something else."""
    return value if isinstance(value, int) else None


def mac_text(octets: bytes | tuple[int, ...]) -> str:
    """Six octets -> ``80:5e:c0:12:34:56``."""
    return ":".join(f"{octet:02x}" for octet in octets)


def parse_system(values: Mapping[str, Value]) -> dict[str, Any]:
    """The system group and engine scalars as JSON-friendly values."""
    engine_id = values.get("engine_id")
    return {
        "descr": text(values.get("descr")),
        "object_id": text(values.get("object_id")),
        "uptime_ticks": number(values.get("uptime")),
        "contact": text(values.get("contact")),
        "name": text(values.get("name")),
        "location": text(values.get("location")),
        "engine_id": engine_id.hex() if isinstance(engine_id, bytes) else None,
        "engine_boots": number(values.get("engine_boots")),
        "engine_time": number(values.get("engine_time")),
    }


def parse_interfaces(table: Table) -> list[Interface]:
    """Join the ifTable and ifXTable columns by ifIndex."""
    indexes = sorted({index[0] for column in table.values() for index in column if index})
    interfaces = []
    for if_index in indexes:
        row = {name: column.get((if_index,)) for name, column in table.items()}
        interfaces.append(interface_from_row(if_index, row))
    return interfaces


def interface_from_row(if_index: int, row: Mapping[str, Value]) -> Interface:
    """One interface from its column values (64-bit octet counters preferred)."""
    counters = {
        name: value
        for name in sorted(oids.COUNTER32_FIELDS | oids.COUNTER64_FIELDS)
        if isinstance(value := row.get(name), int)
    }
    high_speed = number(row.get("high_speed"))
    speed = number(row.get("speed"))
    # ifSpeed saturates at 4294967295 above 4 Gb/s; ifHighSpeed (Mb/s) is right there.
    speed_bps = high_speed * 1_000_000 if high_speed else speed
    name = text(row.get("name")) or text(row.get("descr")) or f"ifIndex {if_index}"
    return Interface(
        if_index=if_index,
        name=name,
        descr=text(row.get("descr")),
        alias=text(row.get("alias")),
        admin_status=status_name(row.get("admin_status")),
        oper_status=status_name(row.get("oper_status")),
        speed_bps=speed_bps,
        counters=counters,
    )


def status_name(value: Value) -> str:
    """ifAdminStatus/ifOperStatus number -> name (``up``, ``down``, ...)."""
    code = number(value)
    return oids.OPER_STATUS_NAMES.get(code, "unknown") if code is not None else "unknown"


def base_port_map(column: Column) -> dict[int, int]:
    """dot1dBasePortIfIndex: bridge port -> ifIndex."""
    return {index[0]: value for index, value in column.items() if index and isinstance(value, int)}


def parse_fdb(table: Table) -> list[FdbEntry]:
    """The forwarding table: Q-BRIDGE first, then per-VLAN BRIDGE-MIB tables (Cisco), then
    BRIDGE-MIB for MACs neither has; learned MACs only.

    A MAC learned in several VLANs keeps one entry per VLAN: they may be on different ports
    (a stale entry on the trunk), and diagnose must see the access port's entry too.
    """
    ports = base_port_map(table.get("base_port_if_index", {}))
    vlans = fdb_vlans(table.get("q_vlan_fdb_id", {}))
    entries: dict[tuple[str, int | None], FdbEntry] = {}
    for fdb_id, mac, port in learned_rows(table, "q_fdb_port", "q_fdb_status", 7):
        # The filtering database id is the VLAN id on many switches, but not in general.
        vlan = vlans.get(fdb_id, fdb_id if not vlans else None)
        entry = FdbEntry(mac, port, ports.get(port, port), vlan, "q-bridge", fdb_id)
        entries.setdefault((mac, fdb_id), entry)
    q_bridge_macs = {mac for mac, _ in entries}
    for vlan, mac, port in learned_rows(table, "vlan_fdb_port", "vlan_fdb_status", 7):
        if mac not in q_bridge_macs:
            entry = FdbEntry(mac, port, ports.get(port, port), vlan, "bridge-vlan")
            entries.setdefault((mac, vlan), entry)
    known_macs = {mac for mac, _ in entries}
    for _, mac, port in learned_rows(table, "fdb_port", "fdb_status", 6):
        if mac not in known_macs:
            entries[(mac, None)] = FdbEntry(mac, port, ports.get(port, port), None, "bridge")
    return sorted(entries.values(), key=lambda entry: (entry.if_index, entry.mac))


def learned_rows(
    table: Table, port_column: str, status_column: str, length: int
) -> list[tuple[int, str, int]]:
    """(VLAN or fdbId, MAC, bridge port) of a forwarding table's learned rows; ``length`` is
    the index length (6: the MAC alone, VLAN given as 0; 7: a VLAN or fdbId, then the MAC)."""
    status = table.get(status_column, {})
    rows = []
    for index, port in table.get(port_column, {}).items():
        if len(index) != length or not isinstance(port, int) or port == 0:
            continue
        if status.get(index, LEARNED) != LEARNED:
            continue
        rows.append((index[0] if length == 7 else 0, mac_text(index[-6:]), port))
    return rows


def fdb_vlans(column: Column) -> dict[int, int]:
    """dot1qVlanFdbId [timeMark, vlan] -> fdbId, turned round: fdbId -> VLAN id."""
    return {
        value: index[-1]
        for index, value in column.items()
        if len(index) == 2 and isinstance(value, int)
    }


def chassis_text(subtype: int | None, value: Value) -> str:
    """An LLDP chassis id by its subtype: a MAC, an IP address, or a name."""
    if isinstance(value, bytes):
        if subtype == 4 and len(value) == 6:
            return mac_text(value)
        if subtype == 5 and len(value) in (5, 17) and value[0] in (1, 2):
            return str(ipaddress.ip_address(value[1:]))
        # Some agents pad a name to a fixed length with NULs (NX-OS: "Eth1/21" + 9 NULs).
        name = value.rstrip(b"\x00")
        if not name or not name.isascii() or not name.decode().isprintable():
            return value.hex(":")
        return name.decode()
    return text(value)


def port_text(subtype: int | None, value: Value) -> str:
    """An LLDP port id: a MAC for subtype 3 (phones send their own), text otherwise."""
    if isinstance(value, bytes) and subtype == 3 and len(value) == 6:
        return mac_text(value)
    return chassis_text(None, value)


def parse_lldp(table: Table, base_ports: Mapping[int, int]) -> list[LldpNeighbour]:
    """LLDP remote systems, each with its LLDP-MED data and the ifIndex of its local port."""
    rows = sorted({index for index in table.get("chassis_id", {}) if len(index) == 3})
    neighbours = []
    for index in rows:
        row = {name: column.get(index) for name, column in table.items()}
        local_port = index[1]
        neighbours.append(
            LldpNeighbour(
                local_port=local_port,
                # LLDP-MIB: the local port number is dot1dBasePort on bridges, else ifIndex.
                if_index=base_ports.get(local_port, local_port),
                chassis_id=chassis_text(number(row.get("chassis_id_subtype")), row["chassis_id"]),
                port_id=port_text(number(row.get("port_id_subtype")), row.get("port_id")),
                port_descr=text(row.get("port_descr")),
                sys_name=text(row.get("sys_name")),
                sys_descr=text(row.get("sys_descr")),
                capabilities=capability_names(row.get("capabilities")),
                med=med_inventory(row, table, index),
            )
        )
    return neighbours


def capability_names(value: Value) -> list[str]:
    """lldpRemSysCapEnabled (BITS, first bit = the high bit of the first octet) as names."""
    if not isinstance(value, bytes):
        return []
    return [
        name
        for bit, name in enumerate(oids.LLDP_CAPABILITY_NAMES)
        if bit // 8 < len(value) and value[bit // 8] & (0x80 >> bit % 8)
    ]


def med_inventory(row: Mapping[str, Value], table: Table, index: tuple[int, ...]) -> dict[str, Any]:
    """LLDP-MED fields of one neighbour (class, inventory, voice policy, PoE request)."""
    med: dict[str, Any] = {}
    for name in MED_TEXT_FIELDS:
        if row.get(name) is not None:
            med[name] = text(row[name])
    device_class = number(row.get("device_class"))
    if device_class is not None:
        med["device_class"] = oids.LLDP_MED_DEVICE_CLASSES.get(device_class, str(device_class))
    request = number(row.get("poe_power_request"))
    if request is not None:
        med["poe_power_request_watts"] = request / 10
    voice = index + (1,)
    policy = {name: number(table.get(f"policy_{name}", {}).get(voice)) for name in ("vlan", "dscp")}
    if any(value is not None for value in policy.values()):
        med["voice_vlan"], med["voice_dscp"] = policy["vlan"], policy["dscp"]
    return med


def parse_poe(
    table: Table, base_ports: Mapping[int, int], if_indexes: set[int], mapping: str = "base-port"
) -> list[PoePort]:
    """PSE ports; ``mapping`` says how the vendor numbers them (see network/vendors)."""
    ports = []
    for index, detection in sorted(table.get("detection_status", {}).items()):
        if len(index) != 2:
            continue
        group, port = index
        admin = number(table.get("admin_enable", {}).get(index))
        power_class = number(table.get("power_class", {}).get(index))
        priority = number(table.get("priority", {}).get(index))
        ports.append(
            PoePort(
                group=group,
                port=port,
                if_index=poe_if_index(port, base_ports, if_indexes, mapping),
                admin_enabled=None if admin is None else admin == 1,
                detection=oids.POE_DETECTION_NAMES.get(number(detection) or 0, "unknown"),
                power_class=oids.POE_CLASS_NAMES.get(power_class or 0),
                priority=oids.POE_PRIORITY_NAMES.get(priority or 0),
                faults=poe_faults(table, index),
            )
        )
    return ports


def poe_faults(table: Table, index: tuple[int, ...]) -> dict[str, int]:
    """The fault counters of one PSE port that the agent reports."""
    return {
        name: value
        for name in oids.POE_FAULT_COUNTERS
        if isinstance(value := table.get(name, {}).get(index), int)
    }


def parse_power_supplies(table: Table) -> list[PowerSupply]:
    """pethMainPseTable: each PSE's budget, state and consumption, by group."""
    return [
        PowerSupply(
            group=index[0],
            power_watts=number(power),
            status=oids.POE_SUPPLY_STATUS_NAMES.get(
                number(table.get("supply_status", {}).get(index)) or 0, "unknown"
            ),
            consumption_watts=number(table.get("supply_consumption", {}).get(index)),
        )
        for index, power in sorted(table.get("supply_power", {}).items())
        if len(index) == 1
    ]


def poe_if_index(
    port: int, base_ports: Mapping[int, int], if_indexes: set[int], mapping: str
) -> int | None:
    """The ifIndex of PSE port ``port``: by bridge port, else equal to the ifIndex."""
    if mapping == "base-port" and port in base_ports:
        return base_ports[port]
    return port if port in if_indexes else None
