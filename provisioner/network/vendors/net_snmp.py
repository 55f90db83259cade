"""net-snmp agents (Linux CPE routers, test agents): data only."""

from __future__ import annotations

from provisioner.network.oids import oid
from provisioner.network.vendors.base import NetworkVendor

# Linux boxes have no PSE; the default mapping is harmless.
VENDOR = NetworkVendor(
    name="net-snmp",
    enterprise=oid("1.3.6.1.4.1.8072"),
    poe_port_mapping="base-port",
    # NET-SNMP-AGENT-MIB: sent by snmpd as it stops (a restart shows it, then coldStart).
    trap_names={oid("1.3.6.1.4.1.8072.4.0.2"): "nsNotifyShutdown"},
)
