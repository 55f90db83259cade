"""DHCP messages without I/O: build a phone's DISCOVER, REQUEST and RELEASE, read an OFFER's
provisioning options.

Only what the check needs: BOOTP header, magic cookie, options as (code, bytes). Repeated
options are joined (RFC 3396), as servers split long values.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

from zerotouch.vendors import PhoneVendorProbe

MAGIC_COOKIE = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, ACK, NAK, RELEASE, INFORM = 1, 2, 3, 5, 6, 7, 8
BOOTREQUEST, BOOTREPLY = 1, 2
BROADCAST_FLAG = 0x8000
HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")
# Where Poly looks for its "VLAN-A=<id>;" string (zerotouch.md §2.1).
POLY_VLAN_OPTIONS = (128, 144, 157, 191)


@dataclass(frozen=True, slots=True)
class DhcpMessage:
    """A BOOTP/DHCP message as read off the wire."""

    op: int
    xid: int
    client_mac: str
    your_address: str
    server_address: str
    options: dict[int, bytes] = field(default_factory=dict)

    @property
    def message_type(self) -> int | None:
        """Option 53, if present."""
        value = self.options.get(53)
        return value[0] if value else None

    @property
    def server_id(self) -> str | None:
        """Option 54, the answering server's identifier (an address), if present."""
        value = self.options.get(54, b"")
        return str(ipaddress.IPv4Address(value[:4])) if len(value) >= 4 else None

    @property
    def server_message(self) -> str | None:
        """Option 56, the text a server gives with a NAK (dnsmasq: why it said no)."""
        return _text(self.options.get(56))


def _header(xid: int, mac: bytes, client_address: str = "0.0.0.0") -> bytes:
    return HEADER.pack(
        BOOTREQUEST, 1, 6, 0, xid, 0, BROADCAST_FLAG,
        ipaddress.IPv4Address(client_address).packed, b"\0" * 4, b"\0" * 4, b"\0" * 4,
        mac.ljust(16, b"\0"), b"", b"",
    )  # fmt: skip


def _as_phone(probe: PhoneVendorProbe, mac: bytes, message_type: int) -> list[tuple[int, bytes]]:
    return [
        (53, bytes([message_type])),
        (61, b"\x01" + mac),
        (60, probe.vendor_class),
        (55, bytes(probe.parameter_requests)),
    ]


def build_discover(probe: PhoneVendorProbe, mac: bytes, xid: int) -> bytes:
    """The BOOTP payload of a DISCOVER as ``probe``'s phones send it (broadcast reply asked)."""
    return _header(xid, mac) + MAGIC_COOKIE + encode_options(_as_phone(probe, mac, DISCOVER))


def build_request(probe: PhoneVendorProbe, mac: bytes, xid: int, offer: DhcpMessage) -> bytes:
    """The REQUEST a phone sends for ``offer`` (SELECTING: requested address and server id)."""
    options = _as_phone(probe, mac, REQUEST)
    options.insert(2, (50, ipaddress.IPv4Address(offer.your_address).packed))
    options.insert(3, (54, offer.options.get(54, b"")[:4]))
    return _header(xid, mac) + MAGIC_COOKIE + encode_options(options)


def build_release(mac: bytes, xid: int, ack: DhcpMessage) -> bytes:
    """The RELEASE that gives back the lease ``ack`` granted (RFC 2131 4.4.6)."""
    options = [(53, bytes([RELEASE])), (61, b"\x01" + mac), (54, ack.options.get(54, b"")[:4])]
    return _header(xid, mac, ack.your_address) + MAGIC_COOKIE + encode_options(options)


def encode_options(options: list[tuple[int, bytes]]) -> bytes:
    """Options as TLVs (values over 255 bytes split, RFC 3396), then END."""
    encoded = bytearray()
    for code, value in options:
        chunks = [value[start : start + 255] for start in range(0, len(value), 255)] or [b""]
        for chunk in chunks:
            encoded += bytes([code, len(chunk)]) + chunk
    return bytes(encoded) + b"\xff"


def parse_options(data: bytes) -> dict[int, bytes]:
    """Options after the magic cookie; a truncated option ends the list (never raises)."""
    options: dict[int, bytes] = {}
    position = 0
    while position < len(data):
        code = data[position]
        if code == 0:
            position += 1
            continue
        if code == 255 or position + 1 >= len(data):
            break
        length = data[position + 1]
        value = data[position + 2 : position + 2 + length]
        if len(value) < length:
            break
        options[code] = options.get(code, b"") + value
        position += 2 + length
    return options


def parse_message(payload: bytes) -> DhcpMessage | None:
    """A BOOTP payload as a message; None when it is not one (short, no cookie)."""
    if len(payload) < HEADER.size + 4 or payload[HEADER.size : HEADER.size + 4] != MAGIC_COOKIE:
        return None
    fields = HEADER.unpack(payload[: HEADER.size])
    op, hardware_length, xid = fields[0], fields[2], fields[4]
    your_address, server_address, hardware = fields[8], fields[9], fields[11]
    mac = hardware[: min(hardware_length, 16)].hex()
    return DhcpMessage(
        op=op,
        xid=xid,
        client_mac=mac,
        your_address=str(ipaddress.IPv4Address(your_address)),
        server_address=str(ipaddress.IPv4Address(server_address)),
        options=parse_options(payload[HEADER.size + 4 :]),
    )


@dataclass(frozen=True, slots=True)
class ProvisioningOffer:
    """What an offer tells a phone about provisioning, option by option, in plain values."""

    server_name: str | None = None  # 66
    boot_file: str | None = None  # 67
    tftp_addresses: tuple[str, ...] = ()  # 150
    option_159: str | None = None
    option_160: str | None = None
    vendor_specific: dict[int, str] = field(default_factory=dict)  # 43 sub-options
    vendor_specific_raw: str | None = None  # 43 when it is not sub-options (hex)
    vendor_specific_text: str | None = None  # 43 when it is one printable string (a URL)
    sip_servers: tuple[str, ...] = ()  # 120
    vlan: int | None = None  # 132
    poly_vlan: int | None = None  # "VLAN-A=<id>;" in 128/144/157/191
    offered_address: str | None = None

    def value_of(self, option: int) -> str | None:
        """The provisioning server an option names, as a phone reads it (150: the first)."""
        if option == 66:
            return self.server_name
        if option == 159:
            return self.option_159
        if option == 160:
            return self.option_160
        if option == 150:
            return self.tftp_addresses[0] if self.tftp_addresses else None
        if option == 43:
            return self.vendor_url()
        raise ValueError(f"option {option} does not name a provisioning server")

    def vendor_url(self) -> str | None:
        """A URL option 43 carries: the whole value as text, else sub-option 1 (Yealink and
        Grandstream phones read a provisioning URL from 43; which layout each firmware reads
        is not in our references, so both are taken)."""
        for value in (self.vendor_specific_text, self.vendor_specific.get(1)):
            if value and "://" in value:
                return value
        return None

    def as_json(self) -> dict[str, object]:
        """For ``--json``: every option by number, absent ones as null."""
        return {
            "66": self.server_name,
            "67": self.boot_file,
            "150": list(self.tftp_addresses),
            "159": self.option_159,
            "160": self.option_160,
            "43": self.vendor_specific_text
            or {str(code): value for code, value in self.vendor_specific.items()}
            or self.vendor_specific_raw,
            "120": list(self.sip_servers),
            "132": self.vlan,
            "poly_vlan": self.poly_vlan,
            "offered_address": self.offered_address,
        }


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    return value.rstrip(b"\0").decode("utf-8", errors="replace").strip() or None


def _printable(value: bytes | None) -> str | None:
    """The value as text when every byte is printable ASCII (a URL in option 43)."""
    if not value:
        return None
    text = value.rstrip(b"\0")
    return text.decode("ascii") if text and all(32 <= byte < 127 for byte in text) else None


def _addresses(value: bytes) -> tuple[str, ...]:
    whole = len(value) - len(value) % 4
    return tuple(str(ipaddress.IPv4Address(value[i : i + 4])) for i in range(0, whole, 4))


def _suboptions(value: bytes) -> dict[int, str] | None:
    """Option 43 as TLV sub-options, or None when the bytes are not TLVs."""
    found: dict[int, str] = {}
    position = 0
    while position < len(value):
        code = value[position]
        if code in (0, 255):
            position += 1 if code == 0 else len(value)
            continue
        if position + 1 >= len(value) or position + 2 + value[position + 1] > len(value):
            return None
        length = value[position + 1]
        found[code] = _text(value[position + 2 : position + 2 + length]) or ""
        position += 2 + length
    return found or None


def _domain_names(value: bytes) -> tuple[str, ...]:
    names: list[str] = []
    labels: list[str] = []
    position = 0
    while position < len(value):
        length = value[position]
        if length == 0:
            names.append(".".join(labels))
            labels = []
            position += 1
            continue
        labels.append(value[position + 1 : position + 1 + length].decode("ascii", "replace"))
        position += 1 + length
    if labels:
        names.append(".".join(labels))
    return tuple(names)


def _sip_servers(value: bytes | None) -> tuple[str, ...]:
    """Option 120 (RFC 3361): encoding byte 0 = domain names, 1 = IPv4 addresses."""
    if not value:
        return ()
    if value[0] == 1:
        return _addresses(value[1:])
    return _domain_names(value[1:])


def _vlan(value: bytes | None) -> int | None:
    """Option 132: vendors send a number as text or as a big-endian integer."""
    if not value:
        return None
    text = value.rstrip(b"\0")
    if text.isdigit():
        return int(text)
    return int.from_bytes(text, "big") if len(text) <= 4 else None


def _poly_vlan(options: dict[int, bytes]) -> int | None:
    for code in POLY_VLAN_OPTIONS:
        text = options.get(code, b"").decode("ascii", "replace")
        for part in text.split(";"):
            key, _, number = part.strip().partition("=")
            if key == "VLAN-A" and number.isdigit():
                return int(number)
    return None


def read_offer(message: DhcpMessage) -> ProvisioningOffer:
    """The provisioning options of an OFFER (or ACK)."""
    options = message.options
    vendor = options.get(43)
    text = _printable(vendor)
    suboptions = _suboptions(vendor) if vendor and not (text and "://" in text) else None
    return ProvisioningOffer(
        server_name=_text(options.get(66)),
        boot_file=_text(options.get(67)),
        tftp_addresses=_addresses(options.get(150, b"")),
        option_159=_text(options.get(159)),
        option_160=_text(options.get(160)),
        vendor_specific=suboptions or {},
        vendor_specific_raw=vendor.hex() if vendor and suboptions is None else None,
        vendor_specific_text=text if text and "://" in text else None,
        sip_servers=_sip_servers(options.get(120)),
        vlan=_vlan(options.get(132)),
        poly_vlan=_poly_vlan(options),
        offered_address=None if message.your_address == "0.0.0.0" else message.your_address,
    )
