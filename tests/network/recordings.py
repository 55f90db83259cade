"""snmpsim recordings: a switch with phones on it that we build, and real switches from
snmpsim-data kept in tests/network/snmprec (decompressed on the fly)."""

from __future__ import annotations

import bz2
from pathlib import Path

DEMO_PHONE = "80:5e:c0:12:34:56"  # the demo tenant's Yealink T46U, on Gi0/3
POLY_PHONE = "00:04:f2:11:22:33"  # a Poly CCX 400, on Gi0/4
PC_BEHIND_PHONE = "3c:52:82:aa:bb:cc"  # a PC plugged into the Yealink's PC port
ROUTER_MAC = "4c:5e:0c:01:02:03"  # the site router, behind the uplink Gi0/8
UPLINK_MACS = [ROUTER_MAC] + [f"02:00:00:00:00:{number:02x}" for number in range(1, 7)]
BASE_PORT_IF_INDEX = 100  # bridge port n is ifIndex 100 + n, on purpose (they differ)

_MED = "1.0.8802.1.1.2.1.5.4795.1.3"
_LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"


def octets(mac: str) -> list[int]:
    """``80:5e:..`` -> [128, 94, ...]."""
    return [int(part, 16) for part in mac.split(":")]


def hex_value(data: bytes) -> str:
    """An snmprec hex-encoded octet string (tag 4x)."""
    return data.hex()


def phone_switch_records() -> list[tuple[str, str, str]]:
    """(oid, tag, value) rows of an 8-port PoE access switch with two phones and a PC."""
    rows: list[tuple[str, str, str]] = [
        ("1.3.6.1.2.1.1.1.0", "4", "VoIP access switch 8x GE PoE, test recording"),
        ("1.3.6.1.2.1.1.2.0", "6", "1.3.6.1.4.1.55555.1.8"),
        ("1.3.6.1.2.1.1.3.0", "67", "8640000"),
        ("1.3.6.1.2.1.1.4.0", "4", "noc@example.net"),
        ("1.3.6.1.2.1.1.5.0", "4", "sw-kantoor"),
        ("1.3.6.1.2.1.1.6.0", "4", "Kantoor Amsterdam, patch room"),
    ]
    for port in range(1, 9):
        rows += interface_rows(port)
        rows.append((f"1.3.6.1.2.1.17.1.4.1.2.{port}", "2", str(BASE_PORT_IF_INDEX + port)))
        rows += poe_rows(port)
    rows += fdb_rows()
    rows += lldp_rows()
    return rows


def interface_rows(port: int, up: bool | None = None) -> list[tuple[str, str, str]]:
    """ifTable and ifXTable columns of Gi0/<port>; Gi0/5 has input errors; ``up`` overrides
    the phone switch's link states (3, 4, 5 and 8 up)."""
    index = BASE_PORT_IF_INDEX + port
    link_up = port in (3, 4, 5, 8) if up is None else up
    values = {
        "1.3.6.1.2.1.2.2.1.1": ("2", str(index)),
        "1.3.6.1.2.1.2.2.1.2": ("4", f"GigabitEthernet0/{port}"),
        "1.3.6.1.2.1.2.2.1.3": ("2", "6"),
        "1.3.6.1.2.1.2.2.1.5": ("66", "1000000000" if link_up else "10000000"),
        "1.3.6.1.2.1.2.2.1.7": ("2", "1"),
        "1.3.6.1.2.1.2.2.1.8": ("2", "1" if link_up else "2"),
        "1.3.6.1.2.1.2.2.1.10": ("65", str(1000 * port)),
        "1.3.6.1.2.1.2.2.1.13": ("65", "0"),
        "1.3.6.1.2.1.2.2.1.14": ("65", "1234" if port == 5 else "0"),
        "1.3.6.1.2.1.2.2.1.16": ("65", str(2000 * port)),
        "1.3.6.1.2.1.2.2.1.19": ("65", "0"),
        "1.3.6.1.2.1.2.2.1.20": ("65", "0"),
        "1.3.6.1.2.1.31.1.1.1.1": ("4", f"Gi0/{port}"),
        "1.3.6.1.2.1.31.1.1.1.6": ("70", str(10**9 * port)),
        "1.3.6.1.2.1.31.1.1.1.10": ("70", str(2 * 10**9 * port)),
        "1.3.6.1.2.1.31.1.1.1.15": ("66", "1000" if link_up else "10"),
        "1.3.6.1.2.1.31.1.1.1.18": ("4", "uplink" if port == 8 else f"desk {port}"),
    }
    return [(f"{column}.{index}", tag, value) for column, (tag, value) in values.items()]


def poe_rows(port: int) -> list[tuple[str, str, str]]:
    """PSE port [1, port]: delivering on the phones' ports, a fault on Gi0/5."""
    detection = {3: "3", 4: "3", 5: "4"}.get(port, "2")
    power_class = {3: "3", 4: "4"}.get(port, "1")
    base = "1.3.6.1.2.1.105.1.1.1"
    return [
        (f"{base}.3.1.{port}", "2", "1"),
        (f"{base}.6.1.{port}", "2", detection),
        (f"{base}.7.1.{port}", "2", "3"),
        (f"{base}.10.1.{port}", "2", power_class),
    ]


def fdb_rows() -> list[tuple[str, str, str]]:
    """Q-BRIDGE (fdbId 10 data, 20 voice) and BRIDGE-MIB forwarding entries."""
    learned = [(20, DEMO_PHONE, 3), (20, POLY_PHONE, 4), (10, PC_BEHIND_PHONE, 3)]
    learned += [(10, mac, 8) for mac in UPLINK_MACS]
    rows = [
        ("1.3.6.1.2.1.17.7.1.4.2.1.3.0.10", "66", "10"),
        ("1.3.6.1.2.1.17.7.1.4.2.1.3.0.20", "66", "20"),
    ]
    for fdb_id, mac, port in learned:
        suffix = ".".join(str(octet) for octet in octets(mac))
        rows.append((f"1.3.6.1.2.1.17.7.1.2.2.1.2.{fdb_id}.{suffix}", "2", str(port)))
        rows.append((f"1.3.6.1.2.1.17.7.1.2.2.1.3.{fdb_id}.{suffix}", "2", "3"))
        rows.append((f"1.3.6.1.2.1.17.4.3.1.2.{suffix}", "2", str(port)))
        rows.append((f"1.3.6.1.2.1.17.4.3.1.3.{suffix}", "2", "3"))
    return rows


def lldp_rows() -> list[tuple[str, str, str]]:
    """LLDP neighbours: the two phones with LLDP-MED inventory, the router on the uplink."""
    rows: list[tuple[str, str, str]] = []
    phones = [
        (3, 1, DEMO_PHONE, [1, 10, 42, 20, 12], "SIP-T46U", "Yealink", "SIP-T46U", "108.86.0.20"),
        (4, 2, POLY_PHONE, [1, 10, 42, 20, 11], "desk12", "Poly", "CCX 400", "8.1.3.1300"),
    ]
    for port, remote, mac, chassis, sys_name, maker, model, firmware in phones:
        index = f"0.{port}.{remote}"
        rows += [
            (f"{_LLDP_REM}.4.{index}", "2", "5"),
            (f"{_LLDP_REM}.5.{index}", "4x", hex_value(bytes(chassis))),
            (f"{_LLDP_REM}.6.{index}", "2", "3"),
            (f"{_LLDP_REM}.7.{index}", "4x", hex_value(bytes(octets(mac)))),
            (f"{_LLDP_REM}.8.{index}", "4", "WAN PORT"),
            (f"{_LLDP_REM}.9.{index}", "4", sys_name),
            (f"{_LLDP_REM}.10.{index}", "4", f"{maker} {model} {firmware}"),
            (f"{_MED}.1.1.3.{index}", "2", "3"),
            (f"{_MED}.2.1.2.{index}.1", "2", "20"),
            (f"{_MED}.2.1.4.{index}.1", "2", "46"),
            (f"{_MED}.3.1.2.{index}", "4", firmware),
            (f"{_MED}.3.1.4.{index}", "4", f"SN-{model.replace(' ', '')}-0001"),
            (f"{_MED}.3.1.5.{index}", "4", maker),
            (f"{_MED}.3.1.6.{index}", "4", model),
            (f"{_MED}.7.1.1.{index}", "2", "45"),
        ]
    index = "0.8.3"
    rows += [
        (f"{_LLDP_REM}.4.{index}", "2", "4"),
        (f"{_LLDP_REM}.5.{index}", "4x", hex_value(bytes(octets(ROUTER_MAC)))),
        (f"{_LLDP_REM}.6.{index}", "2", "5"),
        (f"{_LLDP_REM}.7.{index}", "4", "ether2"),
        (f"{_LLDP_REM}.9.{index}", "4", "rt-kantoor"),
    ]
    return rows


# The PoE switch: an 8-port access switch with a 65 W budget, as POWER-ETHERNET-MIB (RFC 3621)
# describes one. Per port: (detection, class, priority, admin, {counter: value}, MAC learned).
# Classes 2, 3 and 4 deliver about 7, 15 and 30 W: 52 of 65 W are used, so the class 3 phone on
# port 6 is refused power (power denied counted, still searching).
POE_OVERLOADED_PHONE = "80:5e:c0:44:00:04"  # rebooting in a loop on port 4 (overload fault)
POE_SWITCH_PORTS: dict[int, tuple[int, int, int, int, dict[str, int], str | None]] = {
    1: (3, 3, 1, 1, {}, "80:5e:c0:44:00:01"),
    2: (3, 4, 1, 1, {"mps_absent": 1}, "80:5e:c0:44:00:02"),
    3: (3, 5, 2, 1, {}, "00:40:8c:44:00:03"),  # a camera, class 4
    4: (4, 5, 1, 1, {"overload": 7}, POE_OVERLOADED_PHONE),
    5: (6, 1, 3, 1, {"short": 2}, None),  # a damaged cable
    6: (2, 4, 3, 1, {"power_denied": 12}, None),
    7: (1, 1, 3, 2, {}, None),  # PoE switched off on this port
    8: (2, 1, 3, 1, {"invalid_signature": 3}, "3c:52:82:44:00:08"),  # a PC: no PD signature
}
POE_COUNTER_COLUMNS = {"mps_absent": 8, "invalid_signature": 11, "power_denied": 12}
POE_COUNTER_COLUMNS |= {"overload": 13, "short": 14}


def poe_switch() -> str:
    """The PoE switch as an .snmprec file (see POE_SWITCH_PORTS)."""
    rows: list[tuple[str, str, str]] = [
        ("1.3.6.1.2.1.1.1.0", "4", "PoE access switch 8x GE, 65 W, test recording"),
        ("1.3.6.1.2.1.1.2.0", "6", "1.3.6.1.4.1.55555.1.9"),
        ("1.3.6.1.2.1.1.3.0", "67", "4320000"),
        ("1.3.6.1.2.1.1.5.0", "4", "sw-poe"),
        ("1.3.6.1.2.1.105.1.3.1.1.2.1", "66", "65"),  # pethMainPsePower
        ("1.3.6.1.2.1.105.1.3.1.1.3.1", "2", "1"),  # on
        ("1.3.6.1.2.1.105.1.3.1.1.4.1", "66", "52"),  # consumption
    ]
    base = "1.3.6.1.2.1.105.1.1.1"
    for port, (detection, power_class, priority, admin, counters, mac) in POE_SWITCH_PORTS.items():
        rows += interface_rows(port, up=mac is not None)
        rows.append((f"1.3.6.1.2.1.17.1.4.1.2.{port}", "2", str(BASE_PORT_IF_INDEX + port)))
        rows += [
            (f"{base}.3.1.{port}", "2", str(admin)),
            (f"{base}.6.1.{port}", "2", str(detection)),
            (f"{base}.7.1.{port}", "2", str(priority)),
            (f"{base}.10.1.{port}", "2", str(power_class)),
        ]
        rows += [
            (f"{base}.{column}.1.{port}", "65", str(counters.get(name, 0)))
            for name, column in POE_COUNTER_COLUMNS.items()
        ]
        if mac is not None:
            suffix = ".".join(str(octet) for octet in octets(mac))
            rows.append((f"1.3.6.1.2.1.17.7.1.2.2.1.2.20.{suffix}", "2", str(port)))
            rows.append((f"1.3.6.1.2.1.17.7.1.2.2.1.3.20.{suffix}", "2", "3"))
    return snmprec(rows)


def snmprec(rows: list[tuple[str, str, str]]) -> str:
    """Rows as an .snmprec file: ``oid|tag|value``, sorted by OID as snmpsim needs."""
    ordered = sorted(rows, key=lambda row: tuple(int(part) for part in row[0].split(".")))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in ordered)


def phone_switch() -> str:
    """The phone switch as an .snmprec file."""
    return snmprec(phone_switch_records())


RECORDINGS = Path(__file__).parent / "snmprec"
# Real switches from snmpsim-data (see snmprec/README.md), by the community that serves them.
REAL_SWITCHES = {
    "hpe-procurve": "hpe-procurve-516733-b21",
    "cisco-c3750": "cisco-c3750",
    "bdcom-s5612": "bdcom-s5612",  # answers out of order
    "brocade-icx6430-24": "brocade-icx6430-24",
    "dlink-des3200": "dlink-des3200",
    "cisco-n5000": "cisco-n5000",
    "ruijie-s5750-24gt12sfp": "ruijie-s5750-24gt12sfp",
    "h3c-e528-2": "h3c-e528-2",
}


def real_recording(name: str) -> str:
    """A recording of a real device kept in tests/network/snmprec, e.g. ``bdcom-s5612``."""
    path = RECORDINGS / f"{name}.snmprec.bz2"
    return bz2.decompress(path.read_bytes()).decode("utf-8", errors="replace")


# A Cisco IP phone in the voice VLAN and a PC in a data VLAN of the Catalyst recording: only
# their VLAN's table has them (community@100 and community@21), as on a real IOS switch.
CISCO_VOICE_VLAN, CISCO_DATA_VLAN = 100, 21
CISCO_PHONE = "00:1b:54:c2:0a:11"  # on bridge port 3 (Gi1/0/3)
CISCO_PC = "00:1b:54:c2:0a:12"  # on bridge port 5 (Gi1/0/5)
CISCO_TRUNK_PORT = 1  # Gi1/0/1 carries every VLAN
_VTP_STATE = "1.3.6.1.4.1.9.9.46.1.3.1.1.2"
_BRIDGE = "1.3.6.1.2.1.17."
_SYSTEM = "1.3.6.1.2.1.1."


def cisco_per_vlan(community: str = "cisco-ios") -> dict[str, str]:
    """The Catalyst 3750 recording as IOS serves it per VLAN, each file by its community.

    ``community`` is the real walk with its VTP VLAN list cut to VLANs 1, 21, 100 and the
    reserved 1002-1005 (the real list has 278: a test poll would read 274 tables).
    ``community@1`` holds the recording's own bridge tables (the default community shows VLAN
    1); ``community@21`` and ``community@100`` are built in the same shape: the system group,
    the bridge ports of that VLAN (the trunk and one access port) and their learned MACs.
    """
    lines = real_recording("cisco-c3750").splitlines(keepends=True)
    kept_vlans = {1, CISCO_DATA_VLAN, CISCO_VOICE_VLAN, 1002, 1003, 1004, 1005}
    base = [
        line
        for line in lines
        if not line.startswith(_VTP_STATE + ".")
        or int(line.split("|")[0].rsplit(".", 1)[1]) in kept_vlans
    ]
    system = [line for line in lines if line.startswith(_SYSTEM)]
    vlan_one = system + [line for line in lines if line.startswith(_BRIDGE)]
    return {
        community: "".join(base),
        f"{community}@1": "".join(vlan_one),
        f"{community}@{CISCO_DATA_VLAN}": vlan_table(system, 5, CISCO_PC),
        f"{community}@{CISCO_VOICE_VLAN}": vlan_table(system, 3, CISCO_PHONE),
    }


def vlan_table(system: list[str], access_port: int, mac: str) -> str:
    """One VLAN's view: bridge ports (ifIndex 10100 + port on this Catalyst), one MAC learned
    on the access port and the router's MAC on the trunk."""
    rows: list[tuple[str, str, str]] = []
    for port in (CISCO_TRUNK_PORT, access_port):
        rows.append((f"1.3.6.1.2.1.17.1.4.1.2.{port}", "2", str(10100 + port)))
    for learned, port in ((mac, access_port), (ROUTER_MAC, CISCO_TRUNK_PORT)):
        suffix = ".".join(str(octet) for octet in octets(learned))
        rows.append((f"1.3.6.1.2.1.17.4.3.1.2.{suffix}", "2", str(port)))
        rows.append((f"1.3.6.1.2.1.17.4.3.1.3.{suffix}", "2", "3"))
    return "".join(system) + snmprec(rows)


__all__ = ["REAL_SWITCHES", "cisco_per_vlan", "phone_switch", "poe_switch", "real_recording"]
