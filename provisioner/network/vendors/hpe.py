"""HPE ProCurve / Aruba switches: data only."""

from __future__ import annotations

from provisioner.network.oids import oid
from provisioner.network.vendors.base import NetworkVendor

# ProCurve numbers PSE ports like bridge ports.
VENDOR = NetworkVendor(name="hpe", enterprise=oid("1.3.6.1.4.1.11"), poe_port_mapping="base-port")
