"""Cisco IOS and NX-OS switches and routers: data only."""

from __future__ import annotations

from provisioner.network.oids import oid
from provisioner.network.vendors.base import NetworkVendor, PerVlanBridge

# BRIDGE-MIB with the plain community shows VLAN 1 only ("community string indexing"):
# each VLAN's table is read with community@vlan (v2c) or the context vlan-<vlan> (v3),
# the VLANs taken from CISCO-VTP-MIB vtpVlanState (1 = operational). VLANs 1002-1005 are
# the reserved FDDI and Token Ring VLANs: they carry no Ethernet bridge table.
PER_VLAN_BRIDGE = PerVlanBridge(
    vlan_states=oid("1.3.6.1.4.1.9.9.46.1.3.1.1.2"),
    operational=1,
    community_format="{community}@{vlan}",
    context_format="vlan-{vlan}",
    skipped_vlans=frozenset(range(1002, 1006)),
)

# Cisco numbers PSE ports per module; cpeExtPsePortEntPhyIndex maps them exactly.
# On small switches the port number usually equals the ifIndex.
VENDOR = NetworkVendor(
    name="cisco",
    enterprise=oid("1.3.6.1.4.1.9"),
    poe_port_mapping="if-index",
    per_vlan_bridge=PER_VLAN_BRIDGE,
)
