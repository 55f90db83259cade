"""`diagnose`: everything we know about one phone (by MAC) or one network device, in one place.

Each part of the report says why when it has no data (never pairing, never polled, not in any
forwarding table, no PoE table ...), so support can tell "fine" from "unknown".

Over 400 lines on purpose: it is flat, one small function per part of the report in the
order the report reads, each saying why it has no data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import NotFound
from provisioner.firmware.rollout import device_progress
from provisioner.network import state as network_state
from provisioner.network.routers import reports
from provisioner.pairing.timeline import event_json
from provisioner.phones.mac import colon_mac, is_mac, normalize_mac
from provisioner.phones.model import EventKind
from provisioner.store.models import (
    DeviceEvent,
    Extension,
    NetworkDevice,
    NetworkDeviceState,
    NetworkTrap,
    Phone,
    Tenant,
)
from provisioner.times import as_utc

Report = dict[str, Any]
BOOT_LIMIT = 5  # boots shown; the Digest challenges the phone answered are not counted
TRAP_LIMIT = 10
# A port with at most this many MACs is an access port; uplinks carry many more.
ACCESS_PORT_MACS = 4


def diagnose(session: Session, target: str) -> Report:
    """A report for a MAC (a phone) or a network device name (``name`` or ``tenant/name``)."""
    if is_mac(target):
        return diagnose_mac(session, normalize_mac(target))
    return diagnose_device(session, target)


def diagnose_mac(session: Session, mac: str) -> Report:
    """Pairing, boots, the switch port, link, PoE, LLDP-MED, router and traps for one MAC."""
    phone = session.scalar(select(Phone).where(Phone.mac == mac))
    tenant = session.get(Tenant, phone.tenant_id) if phone is not None else None
    devices = network_state.devices_with_state(session, tenant.id if tenant else None)
    location = locate_mac(devices, colon_mac(mac))
    report: Report = {
        "mac": colon_mac(mac),
        # The zone the command line shows this report's times in (the API's stay ISO 8601).
        "timezone": tenant.timezone if tenant else "UTC",
        "phone": phone_part(session, phone, tenant),
        "boots": boot_records(session, mac, tenant.timezone if tenant else None),
        "firmware": device_progress(session, mac),
        "location": location,
    }
    report.update(port_parts(devices, location, colon_mac(mac)))
    site = phone.site if phone is not None else location.get("site")
    report["router"] = router_part(devices, site, owner_of(tenant, devices, location))
    report["router"].update(configuration_part(session, devices, report["router"]))
    traps_of = [location["device_id"]] if location.get("found") else []
    traps_of += [report["router"]["device_id"]] if report["router"].get("device_id") else []
    report["traps"] = trap_part(session, traps_of, location.get("if_index"))
    return report


def phone_part(session: Session, phone: Phone | None, tenant: Tenant | None) -> Report:
    """Is the MAC a phone of a tenant, on which lines (extensions) and site."""
    if phone is None or tenant is None:
        return {"known": False, "why": "no tenant has a phone with this MAC (not paired)"}
    names = dict(
        session.execute(
            select(Extension.number, Extension.name).where(Extension.tenant_id == tenant.id)
        ).all()
    )
    return {
        "known": True,
        "tenant": tenant.name,
        "vendor": phone.vendor,
        "model": phone.model,
        "site": phone.site,
        "lines": [{"number": line, "name": names.get(line, "")} for line in phone.lines],
        "description": phone.description,
    }


def boot_records(session: Session, mac: str, timezone: str | None = None) -> Report:
    """The last requests of this MAC from the device timeline, newest first (local times in
    the tenant's ``timezone``)."""
    newest = session.scalars(
        select(DeviceEvent)
        .where(DeviceEvent.mac == mac)
        .order_by(DeviceEvent.id.desc())
        .limit(BOOT_LIMIT * 3)
    ).all()
    rows = answered_challenges_left_out(newest)[:BOOT_LIMIT]
    if not rows:
        return {
            "available": True,
            "events": [],
            "why": "no boot records: this MAC has not asked for a configuration file "
            "(or its records have expired)",
        }
    return {"available": True, "events": [event_json(row, timezone) for row in rows]}


def answered_challenges_left_out(newest_first: Sequence[DeviceEvent]) -> list[DeviceEvent]:
    """The events without each Digest challenge the phone answered: a Digest fetch is a
    challenge, then the same file again from the same address, and only that answer says how
    the boot went. A challenge nothing followed (a phone that never answered) stays."""
    kept: list[DeviceEvent] = []
    for index, event in enumerate(newest_first):
        after = newest_first[index - 1] if index > 0 else None
        answered = after is not None and (after.file, after.source) == (event.file, event.source)
        if not (event.kind == EventKind.CHALLENGE and answered):
            kept.append(event)
    return kept


@dataclass(frozen=True, slots=True)
class PortHit:
    """One switch port the MAC is learned on, with what tells an access port from an uplink."""

    device: NetworkDevice
    status: NetworkDeviceState | None
    entries: list[Report]
    macs_on_port: int
    lldp: str  # "phone": the port's LLDP neighbour is the MAC; "uplink": a bridge/router; ""

    def rank(self) -> tuple[bool, bool, bool, int]:
        """Lower is likelier the MAC's own port: LLDP first, then how many MACs share it."""
        crowded = self.macs_on_port > ACCESS_PORT_MACS
        return (self.lldp != "phone", self.lldp == "uplink", crowded, self.macs_on_port)


def port_hits(device: NetworkDevice, status: NetworkDeviceState | None, mac: str) -> list[PortHit]:
    """The ports of one switch where ``mac`` is learned (in any VLAN)."""
    data = (status.data or {}) if status is not None else {}
    fdb = data.get("fdb", [])
    macs_per_port: dict[int, set[str]] = {}
    for entry in fdb:
        macs_per_port.setdefault(entry["if_index"], set()).add(entry["mac"])
    hits = []
    for if_index in sorted({entry["if_index"] for entry in fdb if entry["mac"] == mac}):
        entries = [entry for entry in fdb if entry["mac"] == mac and entry["if_index"] == if_index]
        lldp = lldp_evidence(data.get("lldp", []), if_index, mac)
        hits.append(PortHit(device, status, entries, len(macs_per_port[if_index]), lldp))
    return hits


def lldp_evidence(neighbours: list[Report], if_index: int, mac: str) -> str:
    """What LLDP says about a port: the MAC itself is there, or another switch/router is."""
    on_port = [item for item in neighbours if item.get("if_index") == if_index]
    if any(mac in (item.get("chassis_id"), item.get("port_id")) for item in on_port):
        return "phone"
    for item in on_port:
        capabilities = set(item.get("capabilities") or ())
        infrastructure = (
            bool(capabilities & {"bridge", "router"}) and "telephone" not in capabilities
        )
        med_network = (item.get("med") or {}).get("device_class") == "networkConnectivity"
        if infrastructure or med_network:
            return "uplink"
    return ""


def locate_mac(devices: list[tuple[NetworkDevice, NetworkDeviceState | None]], mac: str) -> Report:
    """The switch port a MAC is on: the access port, not an uplink or trunk that also has it."""
    hits = [hit for device, status in devices for hit in port_hits(device, status, mac)]
    incomplete = incomplete_tables(devices)
    if not hits:
        polled = sum(bool((status.data or {}).get("fdb")) for _, status in devices if status)
        why = "no switch has been polled with a forwarding table yet"
        if polled:
            why = f"the MAC is in none of the forwarding tables of {polled} polled switch(es)"
        return {"found": False, "why": why, "incomplete": incomplete}
    best = min(hits, key=PortHit.rank)
    device, status, entry = best.device, best.status, best.entries[0]
    interface = find_interface(status, entry["if_index"])
    return {
        "found": True,
        "device_id": device.id,
        "switch": device.name,
        "site": device.site,
        "switch_status": status.status if status else "unknown",
        "seen_at": iso(status.last_up_at if status else None),
        "if_index": entry["if_index"],
        "port": interface.get("name") or f"ifIndex {entry['if_index']}",
        "bridge_port": entry["base_port"],
        "vlan": entry.get("vlan"),
        "vlans": sorted({item["vlan"] for item in best.entries if item.get("vlan") is not None}),
        "macs_on_port": best.macs_on_port,
        "lldp_confirms": best.lldp == "phone",
        "uplink_suspected": best.lldp == "uplink" or best.macs_on_port > ACCESS_PORT_MACS,
        "also_seen_on": sorted({hit.device.name for hit in hits if hit.device is not device}),
        "incomplete": incomplete,
    }


def incomplete_tables(devices: list[tuple[NetworkDevice, NetworkDeviceState | None]]) -> list[str]:
    """Switches whose last forwarding table is incomplete, and why: a MAC "in none of the
    tables" may be in the part the switch did not give."""
    return [
        f"switch {device.name}'s forwarding table is incomplete: {why}"
        for device, status in devices
        if status is not None
        and (why := ((status.data or {}).get("incomplete") or {}).get("forwarding table"))
    ]


def find_interface(status: NetworkDeviceState | None, if_index: int) -> Report:
    """One interface of a device's latest state, or {}."""
    for item in (status.data or {}).get("interfaces", []) if status else []:
        if item["if_index"] == if_index:
            return dict(item)
    return {}


def port_parts(
    devices: list[tuple[NetworkDevice, NetworkDeviceState | None]], location: Report, mac: str
) -> Report:
    """Link and errors, PoE and LLDP(-MED) of the port the MAC is on."""
    if not location.get("found"):
        why = "the MAC was not found on a switch port"
        return {"link": {"why": why}, "poe": {"why": why}, "lldp": {"why": why}}
    status = next(state for device, state in devices if device.id == location["device_id"])
    if_index = location["if_index"]
    return {
        "link": link_part(find_interface(status, if_index)),
        "poe": poe_part(status, if_index),
        "lldp": lldp_part(status, if_index, mac),
    }


def link_part(interface: Report) -> Report:
    """Link state, speed and error counters of a port."""
    if not interface:
        return {"why": "the switch did not report this interface in ifTable"}
    counters = interface.get("counters", {})
    rates = interface.get("rates", {})
    return {
        "oper_status": interface.get("oper_status"),
        "admin_status": interface.get("admin_status"),
        "speed_mbps": (interface.get("speed_bps") or 0) // 1_000_000 or None,
        "errors": {
            name: counters[name]
            for name in ("in_errors", "out_errors", "in_discards", "out_discards")
            if name in counters
        },
        "error_rates": {name: value for name, value in rates.items() if "errors" in name},
        "status_from_trap_at": interface.get("status_from_trap_at"),
    }


def poe_part(status: NetworkDeviceState | None, if_index: int) -> Report:
    """The PSE state of the port, or why there is none."""
    ports = (status.data or {}).get("poe", []) if status else []
    if not ports:
        return {"why": "the switch reports no PoE (POWER-ETHERNET-MIB) table"}
    for port in ports:
        if port.get("if_index") == if_index:
            return {
                "detection": port["detection"],
                "power_class": port.get("power_class"),
                "admin_enabled": port.get("admin_enabled"),
                "priority": port.get("priority"),
                "pse_port": f"{port['group']}.{port['port']}",
                "faults": {name: count for name, count in port.get("faults", {}).items() if count},
                "supply": supply_of(status, port["group"]),
            }
    return {"why": "the switch reports PoE, but not for this port"}


def supply_of(status: NetworkDeviceState | None, group: int) -> Report:
    """The PSE (power budget) a port draws from, or {} when the switch does not say."""
    supplies = (status.data or {}).get("poe_supplies", []) if status else []
    return next((dict(item) for item in supplies if item.get("group") == group), {})


def lldp_part(status: NetworkDeviceState | None, if_index: int, mac: str) -> Report:
    """LLDP neighbours on the port; the phone's own LLDP-MED data first."""
    neighbours = [
        item
        for item in ((status.data or {}).get("lldp", []) if status else [])
        if item.get("if_index") == if_index
    ]
    if not neighbours:
        return {"why": "no LLDP neighbour on this port (the phone sends no LLDP, or LLDP is off)"}
    neighbours.sort(key=lambda item: mac not in (item["port_id"], item["chassis_id"]))
    return {"phone": neighbours[0], "neighbours": neighbours}


def owner_of(
    tenant: Tenant | None,
    devices: list[tuple[NetworkDevice, NetworkDeviceState | None]],
    location: Report,
) -> int | None:
    """The tenant whose router matters: the phone's, else the switch's the MAC was found on."""
    if tenant is not None:
        return tenant.id
    found = [device.tenant_id for device, _ in devices if device.id == location.get("device_id")]
    return found[0] if found else None


def router_part(
    devices: list[tuple[NetworkDevice, NetworkDeviceState | None]],
    site: str | None,
    tenant_id: int | None,
) -> Report:
    """The site router's reachability and uptime; never another site's or tenant's router."""
    routers = [
        (device, status)
        for device, status in devices
        if device.role == "router" and device.tenant_id == tenant_id
    ]
    if site:
        routers = [item for item in routers if item[0].site == site]
    if not routers:
        return {"why": f"no router in the inventory for site {site or '(unknown site)'}"}
    if len(routers) > 1 and not site:
        return {"why": f"the site is unknown and the tenant has {len(routers)} routers"}
    device, status = routers[0]
    part: Report = {"device_id": device.id, "name": device.name, "site": device.site}
    if status is None or status.status == "unknown":
        return {**part, "status": "unknown", "why": "not polled yet"}
    uptime = (status.data.get("system") or {}).get("uptime_ticks")
    return {
        **part,
        "status": status.status,
        "reason": status.reason,
        "checked_at": iso(status.checked_at),
        "down_since": iso(status.down_since),
        "uptime": format_uptime(uptime) if uptime is not None else None,
        "uptime_as_of": iso(status.last_up_at),
    }


def configuration_part(
    session: Session,
    devices: list[tuple[NetworkDevice, NetworkDeviceState | None]],
    router: Report,
) -> Report:
    """Whether the site router is still applying the configuration it fetched, or how
    applying it went by its report; nothing for a router that did not fetch one."""
    device = next((item for item, _ in devices if item.id == router.get("device_id")), None)
    state = reports.configuration_state(session, device) if device is not None else None
    return {"configuration": state} if state is not None else {}


def trap_part(session: Session, device_ids: list[int], if_index: int | None) -> list[Report]:
    """Recent traps of the switch and router; the phone's port marked."""
    return [
        trap_json(trap, on_port=trap.if_index is not None and trap.if_index == if_index)
        for trap in network_state.recent_traps(session, device_ids, TRAP_LIMIT)
    ]


def trap_json(trap: NetworkTrap, on_port: bool = False) -> Report:
    """A stored trap as JSON."""
    return {
        "received_at": iso(trap.received_at),
        "name": trap.name,
        "source": trap.source,
        "if_index": trap.if_index,
        "on_phone_port": on_port,
    }


def diagnose_device(session: Session, target: str) -> Report:
    """Status, uptime, interfaces with trouble and recent traps of one router or switch."""
    tenant_name, _, name = target.rpartition("/")
    query = select(NetworkDevice, Tenant.name).join(Tenant).where(NetworkDevice.name == name)
    if tenant_name:
        query = query.where(Tenant.name == tenant_name)
    rows = session.execute(query).all()
    if len(rows) != 1:
        problem = (
            "is not a MAC and no network device is called" if not rows else "names several devices:"
        )
        raise NotFound(f"{target!r} {problem} {name!r}; use TENANT/NAME or a MAC")
    device, owner = rows[0]
    timezone = session.scalar(select(Tenant.timezone).where(Tenant.id == device.tenant_id))
    status = session.get(NetworkDeviceState, device.id)
    data = status.data if status is not None else {}
    configuration = (
        reports.configuration_state(session, device) if device.role == "router" else None
    )
    troubled = [
        link_part(item) | {"port": item["name"]}
        for item in data.get("interfaces", [])
        if item.get("oper_status") != "up"
        and item.get("admin_status") == "up"
        or any(item.get("counters", {}).get(name) for name in ("in_errors", "out_errors"))
    ]
    return {
        "timezone": timezone or "UTC",
        "device": {
            "tenant": owner,
            "name": device.name,
            "role": device.role,
            "site": device.site,
            "address": f"{device.address}:{device.port}",
        },
        "status": status.status if status else "unknown",
        "reason": status.reason if status else "not polled yet",
        "checked_at": iso(status.checked_at if status else None),
        "uptime": format_uptime(data.get("system", {}).get("uptime_ticks")),
        "system": data.get("system", {}),
        "interfaces_with_trouble": troubled,
        "traps": [trap_json(trap) for trap in network_state.recent_traps(session, [device.id])],
    } | ({"configuration": configuration} if configuration is not None else {})


def format_uptime(ticks: int | None) -> str | None:
    """TimeTicks (1/100 s) as ``3d 04:05:06``."""
    if ticks is None:
        return None
    seconds = ticks // 100
    days, rest = divmod(seconds, 86_400)
    return f"{days}d {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def iso(moment: datetime | None) -> str | None:
    """A time as ISO 8601 with its offset (naive ones are UTC), or None."""
    return as_utc(moment).isoformat() if moment is not None else None
