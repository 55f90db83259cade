"""The shape of a network vendor's data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from provisioner.network.oids import Oid


@dataclass(frozen=True, slots=True)
class PerVlanBridge:
    """A vendor that serves BRIDGE-MIB's forwarding table once per VLAN (Cisco IOS, NX-OS).

    The VLANs come from ``vlan_states`` ([domain, vlan] -> state); each VLAN's table is read
    with the community ``community_format`` (v2c) or the context ``context_format`` (v3).
    """

    vlan_states: Oid
    operational: int
    community_format: str  # "{community}@{vlan}"
    context_format: str  # "vlan-{vlan}"
    # VLANs that never carry a bridge table of their own (and often time out when asked).
    skipped_vlans: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class NetworkVendor:
    """What differs per vendor: sysObjectID prefix, PoE port numbering, its own traps."""

    name: str
    enterprise: Oid
    # How POWER-ETHERNET-MIB's [group, port] index maps to an interface:
    # "base-port" -> port is the dot1dBasePort; "if-index" -> port is the ifIndex.
    poe_port_mapping: str = "base-port"
    # The vendor's own notifications (snmpTrapOID -> name), beside the standard ones in oids.
    trap_names: Mapping[Oid, str] = field(default_factory=dict, hash=False)
    # Set when the default community or context shows only one VLAN's forwarding table.
    per_vlan_bridge: PerVlanBridge | None = None
