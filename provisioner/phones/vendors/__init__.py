"""The vendor registry: one data-first module per vendor, listed here explicitly."""

from __future__ import annotations

from provisioner.errors import UnsupportedVendor
from provisioner.phones.vendors import (
    cisco_mpp,
    cisco_spa,
    fanvil,
    gigaset,
    grandstream,
    panasonic,
    polycom,
    snom,
    yealink,
)
from provisioner.phones.vendors.base import FileRule, PhoneModel, PhoneVendor

VENDORS: tuple[PhoneVendor, ...] = (
    yealink.VENDOR,
    polycom.VENDOR,
    snom.VENDOR,
    grandstream.VENDOR,
    cisco_mpp.VENDOR,
    cisco_spa.VENDOR,
    fanvil.VENDOR,
    gigaset.VENDOR,
    panasonic.VENDOR,
)


def by_name(name: str) -> PhoneVendor:
    """The vendor module called ``name``; UnsupportedVendor names the ones we have."""
    for vendor in VENDORS:
        if vendor.name == name:
            return vendor
    raise UnsupportedVendor(
        f"no vendor {name!r}; supported: " + ", ".join(vendor.name for vendor in VENDORS)
    )


def by_oui(mac: str) -> tuple[PhoneVendor, ...]:
    """The vendors whose OUI list holds the first three bytes of ``mac`` (normalised)."""
    return tuple(vendor for vendor in VENDORS if mac[:6] in vendor.ouis)


__all__ = ["VENDORS", "FileRule", "PhoneModel", "PhoneVendor", "by_name", "by_oui"]
