"""snmpsim recordings: a switch with phones on it that we build, and real devices from
snmpsim-data (decompressed on the fly)."""

from __future__ import annotations

import bz2
from pathlib import Path

from tests.network.agents import SNMPSIM_VENV

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


def interface_rows(port: int) -> list[tuple[str, str, str]]:
    """ifTable and ifXTable columns of Gi0/<port>; Gi0/5 has input errors."""
    index = BASE_PORT_IF_INDEX + port
    link_up = port in (3, 4, 5, 8)
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


def snmprec(rows: list[tuple[str, str, str]]) -> str:
    """Rows as an .snmprec file: ``oid|tag|value``, sorted by OID as snmpsim needs."""
    ordered = sorted(rows, key=lambda row: tuple(int(part) for part in row[0].split(".")))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in ordered)


def phone_switch() -> str:
    """The phone switch as an .snmprec file."""
    return snmprec(phone_switch_records())


def real_recording(relative: str) -> str:
    """A recording of a real device from snmpsim-data, e.g. ``network/switch/hpe-procurve-...``."""
    found = list(SNMPSIM_VENV.glob(f"lib/python3*/site-packages/snmpsim_data/data/{relative}*"))
    if not found:
        raise FileNotFoundError(f"snmpsim-data has no {relative}; run `bash scripts/setup --test`")
    path = found[0]
    raw = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    return raw.decode("utf-8", errors="replace")


HPE_PROCURVE = "network/switch/hpe-procurve-516733-b21.snmprec"
CISCO_C3750 = "network/switch/cisco-c3750.snmprec"
__all__ = ["CISCO_C3750", "HPE_PROCURVE", "Path", "phone_switch", "real_recording"]
