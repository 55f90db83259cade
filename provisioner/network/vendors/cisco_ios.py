"""Cisco IOS switches and routers: data only."""

from __future__ import annotations

from provisioner.network.oids import oid
from provisioner.network.vendors.base import NetworkVendor

# Cisco numbers PSE ports per module; cpeExtPsePortEntPhyIndex maps them exactly.
# On small switches the port number usually equals the ifIndex.
VENDOR = NetworkVendor(name="cisco", enterprise=oid("1.3.6.1.4.1.9"), poe_port_mapping="if-index")
