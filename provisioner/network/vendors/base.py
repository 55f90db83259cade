"""The shape of a network vendor's data."""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.network.oids import Oid


@dataclass(frozen=True, slots=True)
class NetworkVendor:
    """What differs per vendor: its sysObjectID prefix and how its PoE ports are numbered."""

    name: str
    enterprise: Oid
    # How POWER-ETHERNET-MIB's [group, port] index maps to an interface:
    # "base-port" -> port is the dot1dBasePort; "if-index" -> port is the ifIndex.
    poe_port_mapping: str = "base-port"
