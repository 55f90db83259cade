"""A diagnose report as plain text for a support agent on the phone with a customer."""

from __future__ import annotations

from typing import Any

from provisioner.times import local_iso_time

Report = dict[str, Any]


def when(report: Report, text: str | None) -> str | None:
    """A time of the report in the report's zone (the tenant's, else UTC), in the form every
    command shows (provisioner.times)."""
    return local_iso_time(text, report.get("timezone"))


def as_text(report: Report) -> str:
    """The report, one topic per block, missing data said with its reason."""
    if "device" in report:
        return device_text(report)
    lines = [f"Diagnosis for MAC {report['mac']}", ""]
    for title, render in (
        ("Phone", phone_lines),
        ("Boots", boot_lines),
        ("Firmware", firmware_lines),
        ("Switch port", location_lines),
        ("Link", link_lines),
        ("PoE", poe_lines),
        ("LLDP-MED", lldp_lines),
        ("Site router", router_lines),
        ("Recent traps", trap_lines),
    ):
        lines.append(f"{title}:")
        lines += [f"  {line}" for line in render(report)]
    return "\n".join(lines) + "\n"


def why(part: Report) -> list[str]:
    """The reason a part has no data."""
    return [f"unknown - {part['why']}"]


def phone_lines(report: Report) -> list[str]:
    """Pairing: tenant, model, site and lines."""
    phone = report["phone"]
    if not phone["known"]:
        return [f"NOT PAIRED - {phone['why']}"]
    lines = ", ".join(f"{line['number']} {line['name']}".strip() for line in phone["lines"])
    model = " ".join(part for part in (phone["vendor"], phone["model"]) if part) or "model unknown"
    return [
        f"paired with tenant {phone['tenant']} ({model}), site {phone['site'] or 'not set'}",
        f"lines: {lines or 'none'}",
    ]


def firmware_lines(report: Report) -> list[str]:
    """Its firmware rollouts: the version it should run and how far it got; FAILED stands out."""
    firmware = report.get("firmware") or {}
    if not firmware.get("rollouts"):
        return [firmware.get("why", "in no firmware rollout")]
    return [
        f"{'UPGRADE FAILED' if item['status'] == 'failed' else item['status']}: "
        f"{item['from_version'] or '?'} -> {item['version'] or 'none'} (rollout {item['rollout']})"
        for item in firmware["rollouts"]
    ]


def boot_lines(report: Report) -> list[str]:
    """The last boots (configuration requests) from the device timeline."""
    boots = report["boots"]
    if not boots.get("events"):
        return [boots.get("why", "no boot records")]
    return [event_line(event) for event in boots["events"]]


def event_line(event: Report) -> str:
    """One timeline event: when (the tenant's time, to the second), what was asked by which
    route (/p/, /p/a/ or TFTP), from where, and what happened."""
    route = event.get("route")
    asked = f"{route}{event['file']}" if route else f"{event['protocol']} {event['file']}"
    when = event.get("local_time") or event["at"]
    return f"{when} {asked} from {event['source']}: {event.get('meaning') or event['answer']}"


def location_lines(report: Report) -> list[str]:
    """The switch and port the MAC is learned on."""
    location = report["location"]
    careful = [f"careful: {note}" for note in location.get("incomplete", [])]
    if not location["found"]:
        return [f"not found - {location['why']}", *careful]
    lines = [
        f"switch {location['switch']} (site {location['site'] or '-'}), port {location['port']} "
        f"(ifIndex {location['if_index']}, bridge port {location['bridge_port']}, "
        f"VLAN {vlan_text(location)})",
        f"switch is {location['switch_status']}; forwarding table as of "
        f"{when(report, location['seen_at'])}",
    ]
    if location["uplink_suspected"]:
        lines.append(f"careful: {location['macs_on_port']} MACs on this port, it may be an uplink")
    if location.get("also_seen_on"):
        lines.append(f"also learned on {', '.join(location['also_seen_on'])} (through uplinks)")
    return lines + careful


def vlan_text(location: Report) -> str:
    """The VLAN(s) the MAC is learned in on its port."""
    vlans = location.get("vlans") or ([location["vlan"]] if location.get("vlan") else [])
    return ", ".join(str(vlan) for vlan in vlans) or "-"


def link_lines(report: Report) -> list[str]:
    """Link state, speed and error counters of the port."""
    link = report["link"]
    if "why" in link:
        return why(link)
    speed = f"{link['speed_mbps']} Mb/s" if link["speed_mbps"] else "speed unknown"
    lines = [f"link {link['oper_status']} (admin {link['admin_status']}), {speed}"]
    if link.get("status_from_trap_at"):
        lines.append(f"link state from a trap at {when(report, link['status_from_trap_at'])}")
    errors = ", ".join(f"{name} {value}" for name, value in link["errors"].items())
    lines.append(f"errors: {errors or 'none reported'}")
    return lines


def poe_lines(report: Report) -> list[str]:
    """PoE detection state, class and admin state of the port."""
    poe = report["poe"]
    if "why" in poe:
        return why(poe)
    enabled = {True: "enabled", False: "DISABLED", None: "admin state unknown"}[
        poe["admin_enabled"]
    ]
    lines = [f"{poe['detection']}, {poe['power_class'] or 'class unknown'}, {enabled}"]
    faults = poe.get("faults") or {}
    if faults:
        counted = ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in faults.items())
        lines.append(f"faults counted on this port: {counted}")
    supply = poe.get("supply") or {}
    if supply.get("power_watts"):
        lines.append(
            f"power supply {supply['group']} {supply['status']}: "
            f"{supply['consumption_watts']} of {supply['power_watts']} W in use"
        )
    return lines


def lldp_lines(report: Report) -> list[str]:
    """The phone's LLDP neighbour entry and its LLDP-MED inventory."""
    lldp = report["lldp"]
    if "why" in lldp:
        return why(lldp)
    phone = lldp["phone"]
    med = phone.get("med", {})
    lines = [f"neighbour {phone['sys_name'] or phone['chassis_id']} (port id {phone['port_id']})"]
    if med:
        inventory = " ".join(str(med[key]) for key in ("manufacturer", "model") if med.get(key))
        lines.append(
            f"model {inventory or 'not sent'}, firmware {med.get('firmware_revision', '-')}"
        )
        lines.append(
            f"serial {med.get('serial_number', '-')}, class {med.get('device_class', '-')}"
        )
        if med.get("voice_vlan") is not None:
            lines.append(f"voice VLAN {med['voice_vlan']}, DSCP {med.get('voice_dscp')}")
    else:
        lines.append("no LLDP-MED data from this neighbour")
    return lines


def router_lines(report: Report) -> list[str]:
    """The site router's reachability and uptime."""
    router = report["router"]
    if "name" not in router:
        return why(router)
    return reachability_lines(report, router) + configuration_lines(
        report, router.get("configuration")
    )


def reachability_lines(report: Report, router: Report) -> list[str]:
    """Up (with uptime), partial, down (since when, why) or not polled yet."""
    if router["status"] in ("up", "partial"):
        lines = [
            f"{router['name']} is up, uptime {router['uptime']} "
            f"(as of {when(report, router['uptime_as_of'])})"
        ]
        return lines + ([f"partial poll: {router['reason']}"] if router.get("reason") else [])
    if router["status"] == "down":
        since = when(report, router["down_since"])
        return [f"{router['name']} is DOWN since {since}: {router['reason']}"]
    return [f"{router['name']}: {router.get('why', 'status unknown')}"]


def configuration_lines(report: Report, state: Report | None) -> list[str]:
    """How applying the configuration the router fetched went, by its report."""
    if not state:
        return []
    if state["state"] == "applying":
        return [
            "configuration fetched, being applied: not polled before "
            f"{when(report, state['polled_from'])} unless the router reports first"
        ]
    if state["state"] == "failed":
        reason = state["reason"] or "no reason given"
        return [f"CONFIGURATION FAILED to apply (reported {when(report, state['at'])}): {reason}"]
    if state["state"] == "ok":
        return [f"configuration applied (reported {when(report, state['at'])})"]
    return [f"configuration: never reported whether it applied ({state['reason']})"]


def trap_lines(report: Report) -> list[str]:
    """Recent traps of the switch and router."""
    if not report["traps"]:
        return ["none received"]
    return [
        f"{when(report, trap['received_at'])} {trap['name']}"
        + (f" ifIndex {trap['if_index']}" if trap["if_index"] is not None else "")
        + (" (the phone's port)" if trap["on_phone_port"] else "")
        for trap in report["traps"]
    ]


def device_text(report: Report) -> str:
    """A router or switch report."""
    device = report["device"]
    lines = [
        f"{device['role']} {device['tenant']}/{device['name']} at {device['address']}, "
        f"site {device['site'] or '-'}",
        f"status: {report['status']}" + (f" - {report['reason']}" if report["reason"] else ""),
        f"checked at: {when(report, report['checked_at']) or 'never'}; "
        f"uptime: {report['uptime'] or 'unknown'}",
        *configuration_lines(report, report.get("configuration")),
        "interfaces with trouble:",
    ]
    lines += [
        f"  {item['port']}: link {item['oper_status']}, errors {item['errors'] or 'none'}"
        for item in report["interfaces_with_trouble"]
    ] or ["  none"]
    lines.append("recent traps:")
    traps = [f"  {when(report, trap['received_at'])} {trap['name']}" for trap in report["traps"]]
    lines += traps or ["  none"]
    return "\n".join(lines) + "\n"
