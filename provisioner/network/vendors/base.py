"""The shape of a network vendor's data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from provisioner.network.oids import Oid


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
