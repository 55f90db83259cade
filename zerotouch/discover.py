"""Booting phones as seen on the LAN, without I/O: which DHCP clients and LLDP senders are
phones, and what to report about each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zerotouch.dhcp import DhcpMessage
from zerotouch.lldp import LldpInfo
from zerotouch.vendors import vendor_of

VOICE_ENDPOINT_CLASS = 3
REQUESTED_ADDRESS = 50


@dataclass(frozen=True, slots=True)
class SeenPhone:
    """One phone heard on the wire."""

    mac: str
    vendor: str | None
    seen_by: str  # "dhcp" or "lldp"
    detail: str = ""
    address: str | None = None

    def as_report(self) -> dict[str, Any]:
        """The body the server's ``POST /api/v1/discovered`` takes."""
        report: dict[str, Any] = {"mac": self.mac, "seen_by": self.seen_by}
        if self.vendor:
            report["vendor"] = self.vendor
        if self.detail:
            report["detail"] = self.detail
        if self.address:
            report["address"] = self.address
        return report

    @property
    def line(self) -> str:
        """One line for the technician's terminal."""
        vendor = self.vendor or "unknown vendor"
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.mac}  {vendor}  by {self.seen_by.upper()}{detail}"


def _printable(value: bytes) -> str:
    """Option 60 as text: printable ASCII, or hex for binary classes (Poly's RFC 3925)."""
    if value and all(32 <= byte < 127 for byte in value):
        return value.decode("ascii")
    return value.hex()


def phone_from_dhcp(message: DhcpMessage) -> SeenPhone | None:
    """A phone, if this client's option 60 or MAC prefix is a phone vendor's."""
    vendor_class = message.options.get(60, b"")
    probe = vendor_of(vendor_class, message.client_mac)
    if probe is None or len(message.client_mac) != 12:
        return None
    requested = message.options.get(REQUESTED_ADDRESS, b"")
    address = ".".join(str(byte) for byte in requested) if len(requested) == 4 else None
    detail = f"option 60 {_printable(vendor_class)}" if vendor_class else ""
    return SeenPhone(message.client_mac, probe.name, "dhcp", detail, address)


def phone_from_lldp(info: LldpInfo, source_mac: str) -> SeenPhone | None:
    """A phone, if the frame says voice endpoint (LLDP-MED class III) or its MAC is a phone's."""
    mac = info.chassis_mac or source_mac
    model = info.inventory.get("model") or info.system_description or ""
    probe = vendor_of(model.encode(), mac)
    if info.device_class != VOICE_ENDPOINT_CLASS and probe is None:
        return None
    detail = " ".join(part for part in (info.inventory.get("manufacturer", ""), model) if part)
    return SeenPhone(mac, probe.name if probe else None, "lldp", detail[:200])
