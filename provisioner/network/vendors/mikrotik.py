"""MikroTik RouterOS: data only."""

from __future__ import annotations

from provisioner.network.oids import oid
from provisioner.network.vendors.base import NetworkVendor

# RouterOS reports PoE in MIKROTIK-MIB (mtxrPOE*); the standard table, where present, uses ifIndex.
VENDOR = NetworkVendor(
    name="mikrotik", enterprise=oid("1.3.6.1.4.1.14988"), poe_port_mapping="if-index"
)
