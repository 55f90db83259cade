"""Per-vendor network data, chosen by sysObjectID; an explicit registry readable in one screen."""

from __future__ import annotations

from provisioner.network.oids import TRAP_NAMES, Oid, oid
from provisioner.network.vendors import cisco_ios, hpe, mikrotik, net_snmp
from provisioner.network.vendors.base import NetworkVendor

GENERIC = NetworkVendor("generic", ())
VENDORS: tuple[NetworkVendor, ...] = (
    cisco_ios.VENDOR,
    hpe.VENDOR,
    mikrotik.VENDOR,
    net_snmp.VENDOR,
)


def vendor_for(sys_object_id: str) -> NetworkVendor:
    """The vendor whose enterprise prefix starts ``sys_object_id``; GENERIC otherwise."""
    value = oid(sys_object_id) if sys_object_id else ()
    for vendor in VENDORS:
        if value[: len(vendor.enterprise)] == vendor.enterprise:
            return vendor
    return GENERIC


def trap_name(trap_oid: Oid) -> str | None:
    """A notification's name: a standard one, else one a vendor module knows; None if unknown."""
    if trap_oid in TRAP_NAMES:
        return TRAP_NAMES[trap_oid]
    return next(
        (vendor.trap_names[trap_oid] for vendor in VENDORS if trap_oid in vendor.trap_names), None
    )
