"""Numeric OIDs the poller, the trap receiver and diagnostics use (no MIB compiling at run time).

Every OID was checked against the compiled MIBs listed in shared/reference/snmp.md section 3.
Columns are table columns (walk them; the row index is the OID suffix), scalars end in ``.0``.
"""

from __future__ import annotations

Oid = tuple[int, ...]


def oid(text: str) -> Oid:
    """``"1.3.6.1.2.1.1.3.0"`` -> ``(1, 3, 6, 1, 2, 1, 1, 3, 0)``."""
    return tuple(int(part) for part in text.strip(".").split("."))


def dotted(value: Oid) -> str:
    """``(1, 3, 6)`` -> ``"1.3.6"``."""
    return ".".join(str(part) for part in value)


# --- SNMPv2-MIB system group and SNMP-FRAMEWORK-MIB engine scalars ------------------------------
SYS_DESCR = oid("1.3.6.1.2.1.1.1.0")
SYS_OBJECT_ID = oid("1.3.6.1.2.1.1.2.0")
SYS_UPTIME = oid("1.3.6.1.2.1.1.3.0")
SYS_CONTACT = oid("1.3.6.1.2.1.1.4.0")
SYS_NAME = oid("1.3.6.1.2.1.1.5.0")
SYS_LOCATION = oid("1.3.6.1.2.1.1.6.0")
SNMP_ENGINE_ID = oid("1.3.6.1.6.3.10.2.1.1.0")
SNMP_ENGINE_BOOTS = oid("1.3.6.1.6.3.10.2.1.2.0")
SNMP_ENGINE_TIME = oid("1.3.6.1.6.3.10.2.1.3.0")

SYSTEM_SCALARS: dict[str, Oid] = {
    "descr": SYS_DESCR,
    "object_id": SYS_OBJECT_ID,
    "uptime": SYS_UPTIME,
    "contact": SYS_CONTACT,
    "name": SYS_NAME,
    "location": SYS_LOCATION,
    "engine_id": SNMP_ENGINE_ID,
    "engine_boots": SNMP_ENGINE_BOOTS,
    "engine_time": SNMP_ENGINE_TIME,
}

# --- IF-MIB: ifTable (1.3.6.1.2.1.2.2.1.x) and ifXTable (1.3.6.1.2.1.31.1.1.1.x) -----------------
INTERFACE_COLUMNS: dict[str, Oid] = {
    "descr": oid("1.3.6.1.2.1.2.2.1.2"),
    "type": oid("1.3.6.1.2.1.2.2.1.3"),
    "speed": oid("1.3.6.1.2.1.2.2.1.5"),
    "admin_status": oid("1.3.6.1.2.1.2.2.1.7"),
    "oper_status": oid("1.3.6.1.2.1.2.2.1.8"),
    "in_discards": oid("1.3.6.1.2.1.2.2.1.13"),
    "in_errors": oid("1.3.6.1.2.1.2.2.1.14"),
    "out_discards": oid("1.3.6.1.2.1.2.2.1.19"),
    "out_errors": oid("1.3.6.1.2.1.2.2.1.20"),
    "in_octets_32": oid("1.3.6.1.2.1.2.2.1.10"),
    "out_octets_32": oid("1.3.6.1.2.1.2.2.1.16"),
    "name": oid("1.3.6.1.2.1.31.1.1.1.1"),
    "in_octets": oid("1.3.6.1.2.1.31.1.1.1.6"),
    "out_octets": oid("1.3.6.1.2.1.31.1.1.1.10"),
    "high_speed": oid("1.3.6.1.2.1.31.1.1.1.15"),
    "alias": oid("1.3.6.1.2.1.31.1.1.1.18"),
}
IF_INDEX = oid("1.3.6.1.2.1.2.2.1.1")
IF_ADMIN_STATUS = INTERFACE_COLUMNS["admin_status"]
IF_OPER_STATUS = INTERFACE_COLUMNS["oper_status"]
# Counters that are Counter32 on the wire; the rest of the counters are Counter64 (ifHC*).
COUNTER32_FIELDS = frozenset(
    {"in_discards", "in_errors", "out_discards", "out_errors", "in_octets_32", "out_octets_32"}
)
COUNTER64_FIELDS = frozenset({"in_octets", "out_octets"})
OPER_STATUS_NAMES = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}

# --- BRIDGE-MIB and Q-BRIDGE-MIB ------------------------------------------------------------------
BRIDGE_COLUMNS: dict[str, Oid] = {
    "base_port_if_index": oid("1.3.6.1.2.1.17.1.4.1.2"),  # [basePort] -> ifIndex
    "fdb_port": oid("1.3.6.1.2.1.17.4.3.1.2"),  # [mac(6)] -> basePort
    "fdb_status": oid("1.3.6.1.2.1.17.4.3.1.3"),  # 3 learned, 4 self, 5 mgmt
    "q_fdb_port": oid("1.3.6.1.2.1.17.7.1.2.2.1.2"),  # [fdbId, mac(6)] -> basePort
    "q_fdb_status": oid("1.3.6.1.2.1.17.7.1.2.2.1.3"),
    "q_vlan_fdb_id": oid("1.3.6.1.2.1.17.7.1.4.2.1.3"),  # [timeMark, vlan] -> fdbId
}
FDB_STATUS_NAMES = {1: "other", 2: "invalid", 3: "learned", 4: "self", 5: "mgmt"}

# --- LLDP-MIB (1.0.8802.1.1.2.1) remote table; index [timeMark, localPortNum, remIndex] -------
LLDP_COLUMNS: dict[str, Oid] = {
    "loc_port_id": oid("1.0.8802.1.1.2.1.3.7.1.3"),  # [localPortNum]
    "chassis_id_subtype": oid("1.0.8802.1.1.2.1.4.1.1.4"),
    "chassis_id": oid("1.0.8802.1.1.2.1.4.1.1.5"),
    "port_id_subtype": oid("1.0.8802.1.1.2.1.4.1.1.6"),
    "port_id": oid("1.0.8802.1.1.2.1.4.1.1.7"),
    "port_descr": oid("1.0.8802.1.1.2.1.4.1.1.8"),
    "sys_name": oid("1.0.8802.1.1.2.1.4.1.1.9"),
    "sys_descr": oid("1.0.8802.1.1.2.1.4.1.1.10"),
    "capabilities": oid("1.0.8802.1.1.2.1.4.1.1.12"),
}

# --- LLDP-EXT-MED-MIB (1.0.8802.1.1.2.1.5.4795.1.3); same 3-part index ---------------------------
_MED = "1.0.8802.1.1.2.1.5.4795.1.3"
LLDP_MED_COLUMNS: dict[str, Oid] = {
    "device_class": oid(f"{_MED}.1.1.3"),
    "hardware_revision": oid(f"{_MED}.3.1.1"),
    "firmware_revision": oid(f"{_MED}.3.1.2"),
    "software_revision": oid(f"{_MED}.3.1.3"),
    "serial_number": oid(f"{_MED}.3.1.4"),
    "manufacturer": oid(f"{_MED}.3.1.5"),
    "model": oid(f"{_MED}.3.1.6"),
    "asset_id": oid(f"{_MED}.3.1.7"),
    "poe_device_type": oid(f"{_MED}.5.1.1"),
    "poe_power_request": oid(f"{_MED}.7.1.1"),  # in 0.1 W
}
# Media policy has one more index part, the application type (1 = voice).
LLDP_MED_POLICY_COLUMNS: dict[str, Oid] = {
    "vlan": oid(f"{_MED}.2.1.2"),
    "priority": oid(f"{_MED}.2.1.3"),
    "dscp": oid(f"{_MED}.2.1.4"),
}
# lldpRemSysCapEnabled bit names, in bit order (LLDP-MIB LldpSystemCapabilitiesMap).
LLDP_CAPABILITY_NAMES = (
    "other",
    "repeater",
    "bridge",
    "wlanAccessPoint",
    "router",
    "telephone",
    "docsisCableDevice",
    "stationOnly",
)
LLDP_MED_DEVICE_CLASSES = {
    0: "notDefined",
    1: "endpointClass1",
    2: "endpointClass2",
    3: "endpointClass3 (voice)",
    4: "networkConnectivity",
}

# --- POWER-ETHERNET-MIB (1.3.6.1.2.1.105.1); index [groupIndex, portIndex] ----------------------
POE_COLUMNS: dict[str, Oid] = {
    "admin_enable": oid("1.3.6.1.2.1.105.1.1.1.3"),
    "detection_status": oid("1.3.6.1.2.1.105.1.1.1.6"),
    "priority": oid("1.3.6.1.2.1.105.1.1.1.7"),
    "power_class": oid("1.3.6.1.2.1.105.1.1.1.10"),
    # Counters of what went wrong on the port (RFC 3621 pethPsePortEntry 8, 11-14).
    "mps_absent": oid("1.3.6.1.2.1.105.1.1.1.8"),
    "invalid_signature": oid("1.3.6.1.2.1.105.1.1.1.11"),
    "power_denied": oid("1.3.6.1.2.1.105.1.1.1.12"),
    "overload": oid("1.3.6.1.2.1.105.1.1.1.13"),
    "short": oid("1.3.6.1.2.1.105.1.1.1.14"),
    # pethMainPseTable, index [group]: the power budget of each PSE (unit or module).
    "supply_power": oid("1.3.6.1.2.1.105.1.3.1.1.2"),  # W
    "supply_status": oid("1.3.6.1.2.1.105.1.3.1.1.3"),
    "supply_consumption": oid("1.3.6.1.2.1.105.1.3.1.1.4"),  # W
}
POE_FAULT_COUNTERS = ("mps_absent", "invalid_signature", "power_denied", "overload", "short")
POE_SUPPLY_STATUS_NAMES = {1: "on", 2: "off", 3: "faulty"}
POE_DETECTION_NAMES = {
    1: "disabled",
    2: "searching",
    3: "deliveringPower",
    4: "fault",
    5: "test",
    6: "otherFault",
}
POE_CLASS_NAMES = {1: "class0", 2: "class1", 3: "class2", 4: "class3", 5: "class4"}
POE_PRIORITY_NAMES = {1: "critical", 2: "high", 3: "low"}

# --- Notifications -------------------------------------------------------------------------
SNMP_TRAP_OID = oid("1.3.6.1.6.3.1.1.4.1.0")
# snmpTrapCommunity.0: added to a v1 trap translated to v2 form; it holds the community (a secret).
SNMP_TRAP_COMMUNITY = oid("1.3.6.1.6.3.18.1.4.0")
TRAP_NAMES: dict[Oid, str] = {
    oid("1.3.6.1.6.3.1.1.5.1"): "coldStart",
    oid("1.3.6.1.6.3.1.1.5.2"): "warmStart",
    oid("1.3.6.1.6.3.1.1.5.3"): "linkDown",
    oid("1.3.6.1.6.3.1.1.5.4"): "linkUp",
    oid("1.3.6.1.6.3.1.1.5.5"): "authenticationFailure",
    oid("1.3.6.1.2.1.105.0.1"): "pethPsePortOnOffNotification",
}
