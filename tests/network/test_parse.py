"""Pure parsing of walked columns: forwarding table, LLDP(-MED), PoE, interfaces."""

from __future__ import annotations

import pytest

from provisioner.network import parse

PHONE = (0x80, 0x5E, 0xC0, 0x12, 0x34, 0x56)
PC = (0x3C, 0x52, 0x82, 0xAA, 0xBB, 0xCC)


def test_fdb_maps_bridge_port_to_if_index_and_fdb_id_to_vlan() -> None:
    table = {
        "base_port_if_index": {(3,): 103},
        "q_vlan_fdb_id": {(0, 20): 7},
        "q_fdb_port": {(7, *PHONE): 3},
        "q_fdb_status": {(7, *PHONE): 3},
    }
    [entry] = parse.parse_fdb(table)
    assert (entry.mac, entry.base_port, entry.if_index, entry.vlan) == (
        "80:5e:c0:12:34:56",
        3,
        103,
        20,
    )


def test_fdb_prefers_q_bridge_and_adds_bridge_only_macs() -> None:
    table = {
        "q_fdb_port": {(1, *PHONE): 3},
        "fdb_port": {PHONE: 9, PC: 4},
    }
    entries = {entry.mac: entry for entry in parse.parse_fdb(table)}
    assert entries["80:5e:c0:12:34:56"].base_port == 3
    assert entries["3c:52:82:aa:bb:cc"].source == "bridge"
    assert entries["3c:52:82:aa:bb:cc"].if_index == 4  # no dot1dBasePortIfIndex: port = ifIndex


@pytest.mark.parametrize("status", [4, 5, 2], ids=["self", "mgmt", "invalid"])
def test_fdb_keeps_learned_entries_only(status: int) -> None:
    table = {"fdb_port": {PHONE: 3}, "fdb_status": {PHONE: status}}
    assert parse.parse_fdb(table) == []


@pytest.mark.parametrize(
    ("subtype", "value", "expected"),
    [
        (4, bytes(PHONE), "80:5e:c0:12:34:56"),
        (5, bytes([1, 10, 42, 20, 12]), "10.42.20.12"),
        (7, b"sw-core", "sw-core"),
        (7, b"\x01\x02\xff", "01:02:ff"),
    ],
    ids=["mac", "ipv4", "name", "binary"],
)
def test_lldp_chassis_id_by_subtype(subtype: int, value: bytes, expected: str) -> None:
    assert parse.chassis_text(subtype, value) == expected


@pytest.mark.parametrize(
    ("subtype", "value", "expected"),
    [
        (7, b"Eth1/21" + bytes(9), "Eth1/21"),  # NX-OS pads local port ids with NULs
        (5, b"mgmt0" + bytes(11), "mgmt0"),
        (7, b"Gi0/1", "Gi0/1"),
        (3, bytes(PHONE), "80:5e:c0:12:34:56"),
        (7, bytes(4), "00:00:00:00"),  # nothing but padding is no name
        (7, b"\x01\x02" + bytes(2), "01:02:00:00"),
    ],
    ids=["local-padded", "ifname-padded", "local", "mac", "all-nul", "binary"],
)
def test_lldp_port_id_text_without_padding(subtype: int, value: bytes, expected: str) -> None:
    assert parse.port_text(subtype, value) == expected


def test_fdb_read_per_vlan_has_its_vlan_and_q_bridge_still_wins() -> None:
    table = {
        "base_port_if_index": {(7,): 10107, (3,): 10103},
        "vlan_fdb_port": {(20, *PHONE): 7, (1, *PC): 3},
        "vlan_fdb_status": {(20, *PHONE): 3, (1, *PC): 3},
        "fdb_port": {PC: 3},  # the default community's VLAN 1 table again
    }
    entries = {entry.mac: entry for entry in parse.parse_fdb(table)}
    phone = entries["80:5e:c0:12:34:56"]
    assert (phone.vlan, phone.if_index, phone.source) == (20, 10107, "bridge-vlan")
    assert (entries["3c:52:82:aa:bb:cc"].vlan, len(entries)) == (1, 2)
    with_q = parse.parse_fdb({**table, "q_fdb_port": {(20, *PHONE): 7}})
    assert [entry.source for entry in with_q if entry.mac == phone.mac] == ["q-bridge"]


def test_lldp_neighbour_with_med_inventory_on_the_bridge_ports_if_index() -> None:
    index = (0, 3, 1)
    table = {
        "chassis_id_subtype": {index: 4},
        "chassis_id": {index: bytes(PHONE)},
        "port_id_subtype": {index: 3},
        "port_id": {index: bytes(PHONE)},
        "sys_name": {index: b"SIP-T46U"},
        "model": {index: b"SIP-T46U"},
        "manufacturer": {index: b"Yealink"},
        "device_class": {index: 3},
        "poe_power_request": {index: 45},
        "policy_vlan": {(*index, 1): 20},
        "policy_dscp": {(*index, 1): 46},
    }
    [neighbour] = parse.parse_lldp(table, {3: 103})
    assert neighbour.if_index == 103
    assert neighbour.port_id == "80:5e:c0:12:34:56"
    assert neighbour.med["model"] == "SIP-T46U"
    assert neighbour.med["device_class"].startswith("endpointClass3")
    assert (neighbour.med["voice_vlan"], neighbour.med["voice_dscp"]) == (20, 46)
    assert neighbour.med["poe_power_request_watts"] == 4.5


def test_poe_port_mapped_by_bridge_port_or_if_index() -> None:
    table = {"detection_status": {(1, 3): 3, (1, 4): 4}, "power_class": {(1, 3): 3}}
    by_base = parse.parse_poe(table, {3: 103, 4: 104}, {103, 104}, "base-port")
    assert [(port.if_index, port.detection) for port in by_base] == [
        (103, "deliveringPower"),
        (104, "fault"),
    ]
    assert by_base[0].power_class == "class2"
    by_index = parse.parse_poe(table, {3: 103}, {3, 4}, "if-index")
    assert [port.if_index for port in by_index] == [3, 4]


def test_interfaces_join_columns_and_prefer_high_speed() -> None:
    table = {
        "name": {(2,): b"Gi0/2"},
        "oper_status": {(2,): 7},
        "speed": {(2,): 4_294_967_295},
        "high_speed": {(2,): 10_000},
        "in_octets": {(2,): 5},
        "in_errors": {(2,): 1},
    }
    [interface] = parse.parse_interfaces(table)
    assert interface.name == "Gi0/2"
    assert interface.oper_status == "lowerLayerDown"
    assert interface.speed_bps == 10_000_000_000
    assert interface.counters == {"in_errors": 1, "in_octets": 5}


def test_fdb_id_is_not_taken_for_a_vlan_when_the_switch_maps_them() -> None:
    table = {"q_vlan_fdb_id": {(0, 20): 7}, "q_fdb_port": {(9, *PHONE): 3}}
    [entry] = parse.parse_fdb(table)
    assert (entry.fdb_id, entry.vlan) == (9, None)
    [entry] = parse.parse_fdb({"q_fdb_port": {(9, *PHONE): 3}})
    assert (entry.fdb_id, entry.vlan) == (9, 9)  # no map: fdbId = VLAN, as most switches do


def test_fdb_keeps_a_mac_learned_in_several_vlans() -> None:
    # The phone's voice VLAN entry on its access port must not be lost to another VLAN's entry.
    table = {
        "base_port_if_index": {(1,): 101, (3,): 103},
        "q_fdb_port": {(1, *PHONE): 1, (20, *PHONE): 3},
        "fdb_port": {PHONE: 3},
    }
    entries = parse.parse_fdb(table)
    assert sorted((entry.vlan, entry.if_index) for entry in entries) == [(1, 101), (20, 103)]


def test_lldp_capabilities_are_named() -> None:
    index = (0, 1, 1)
    table = {
        "chassis_id_subtype": {index: 7},
        "chassis_id": {index: b"sw-core"},
        "capabilities": {index: bytes([0x28])},  # BITS: bridge(2) and router(4)
    }
    [neighbour] = parse.parse_lldp(table, {})
    assert neighbour.capabilities == ["bridge", "router"]


def test_poe_fault_counters_and_power_supplies() -> None:
    index = (1, 4)
    table = {
        "detection_status": {index: 4},
        "overload": {index: 7},
        "short": {index: 0},
        "supply_power": {(1,): 65, (2,): 370},
        "supply_status": {(1,): 1, (2,): 3},
        "supply_consumption": {(1,): 52},
    }
    [port] = parse.parse_poe(table, {}, {4}, "if-index")
    assert (port.detection, port.if_index, port.faults) == ("fault", 4, {"overload": 7, "short": 0})
    supplies = parse.parse_power_supplies(table)
    assert [
        (item.group, item.power_watts, item.status, item.consumption_watts) for item in supplies
    ] == [
        (1, 65, "on", 52),
        (2, 370, "faulty", None),
    ]
