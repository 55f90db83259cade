"""How each supported phone vendor asks DHCP for its provisioning server: data only.

Sources: ``shared/reference/zerotouch.md`` §2.1-2.2 and ``shared/reference/phones.md`` §2.1, 3.8,
4.8, 5.8, 8.1. Where a reference is unsure we say so next to the value.

- ``ouis``: MAC prefixes (phones.md §2.8); the probe sends from the first with random lower bytes.
- ``vendor_class``: the option 60 the phone sends.
- ``parameter_requests``: the option 55 list. Yealink's is the one captured in zerotouch.md §2.1;
  for the others it is the basics (1, 3, 6, 15, 42) plus the options their documented DHCP
  reading uses, since no capture of theirs is in our references.
- ``url_options``: the options the phone takes its provisioning server from, first wins.
- ``common_file``, ``user_agent``, ``expect``: what the phone fetches first from that server,
  how it introduces itself, and what the answer must start with (its own file format). The
  User-Agents carry no MAC, so a check adds no phone to the server's discovered list.
"""

from __future__ import annotations

from dataclasses import dataclass

BASICS = (1, 3, 6, 15, 42)


@dataclass(frozen=True, slots=True)
class PhoneVendorProbe:
    """One vendor's way of asking DHCP, and what its phones then fetch."""

    name: str
    label: str
    ouis: tuple[str, ...]
    vendor_class: bytes
    parameter_requests: tuple[int, ...]
    url_options: tuple[int, ...]
    common_file: str
    user_agent: str
    expect: bytes
    file_option: int | None = None


def _poly_vendor_class() -> bytes:
    """RFC 3925 layout Poly sends in option 60: enterprise 13885, then sub-options (part
    number, model, application version). The sub-option numbers 1-3 are our reading (unsure)."""
    suboptions = b"".join(
        bytes([code, len(value)]) + value
        for code, value in ((1, b"3111-48450-001"), (2, b"VVX450"), (3, b"6.4.3.5018"))
    )
    return (13885).to_bytes(4, "big") + bytes([len(suboptions)]) + suboptions


YEALINK = PhoneVendorProbe(
    name="yealink",
    label="Yealink",
    ouis=("805ec0", "001565", "249ad8", "44dbd2", "c4fc22", "e434d7"),
    vendor_class=b"yealink",
    parameter_requests=(1, 3, 6, 15, 42, 43, 66, 67, 120, 132, 133, 150, 160),
    # The custom option (160 by default), then 66, then 43 ("custom option > 66 > 43" in
    # Yealink's admin guide, phones.md §2.1). 43 may also carry a TR-069 ACS URL instead.
    url_options=(160, 66, 43),
    common_file="y000000000000.boot",
    user_agent="Yealink SIP-T46U 108.86.0.90",
    expect=b"#!version:1.0.0.1",
)
POLY = PhoneVendorProbe(
    name="poly",
    label="Poly",
    ouis=("64167f", "0004f2", "482567", "00907a"),
    vendor_class=_poly_vendor_class(),
    parameter_requests=(*BASICS, 43, 66, 132, 150, 160),
    # Current VVX firmware reads the custom option 160 (Microsoft's SIP-gateway guide; the
    # reference marks it unsure). Old UCS "Custom+Option 66" mode also read 66.
    url_options=(160,),
    common_file="000000000000.cfg",
    user_agent="FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018 Type/Application",
    expect=b"<",
)
SNOM = PhoneVendorProbe(
    name="snom",
    label="Snom",
    ouis=("000413",),
    vendor_class=b"snomD785",
    parameter_requests=(*BASICS, 66, 67),
    url_options=(66,),
    common_file="snomD785.htm",
    user_agent="Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33)",
    expect=b"<",
    file_option=67,
)
CISCO_MPP = PhoneVendorProbe(
    name="cisco",
    label="Cisco MPP",
    ouis=("00562b",),
    vendor_class=b"CP-8841-3PCC",
    parameter_requests=(*BASICS, 43, 66, 125, 150, 159, 160),
    # Cisco's "DHCP Option To Use" default (phones.md §2.1), without 60/43/125.
    url_options=(66, 160, 159, 150),
    common_file="8841-3PCC.xml",
    user_agent="Cisco-CP-8841-3PCC/12.0.7",
    expect=b"<flat-profile",
)

GRANDSTREAM = PhoneVendorProbe(
    name="grandstream",
    label="Grandstream",
    ouis=("000b82", "c074ad", "ec74d7"),
    # Grandstream documents an option 60 chapter but our references lack the exact string
    # (zerotouch.md §2.2); this is the model name as its User-Agent gives it (unsure).
    vendor_class=b"Grandstream GRP2614",
    parameter_requests=(*BASICS, 43, 66, 132, 133, 150, 160),
    # 66, then 43 (Grandstream's DHCP options guide; it also lists 150 and 160).
    url_options=(66, 43),
    # cfg<mac>.xml first, then cfg<model>.xml, then the generic cfg.xml (phones.md §6.1).
    common_file="cfg.xml",
    # The real User-Agent ends with "DevId <mac>"; left out so nothing lands on the
    # discovered list.
    user_agent="Grandstream Model HW GRP2614 SW 1.0.5.15",
    expect=b"<gs_provision",
)

PROBES: tuple[PhoneVendorProbe, ...] = (YEALINK, POLY, SNOM, CISCO_MPP, GRANDSTREAM)


def by_name(name: str) -> PhoneVendorProbe:
    """The probe called ``name``; ValueError naming the known ones otherwise."""
    for probe in PROBES:
        if probe.name == name:
            return probe
    known = ", ".join(probe.name for probe in PROBES)
    raise ValueError(f"no vendor {name!r}; known: {known}")


def vendor_of(vendor_class: bytes, mac: str) -> PhoneVendorProbe | None:
    """Which vendor a DHCP client is, by option 60 prefix, else by the MAC's OUI."""
    lowered = vendor_class.lower()
    prefixes = {
        "yealink": (b"yealink",),
        "poly": ((13885).to_bytes(4, "big"), b"polycom"),
        "snom": (b"snom",),
        "cisco": (b"cp-", b"cisco"),
        "grandstream": (b"grandstream",),
    }
    for probe in PROBES:
        if lowered and any(lowered.startswith(prefix) for prefix in prefixes[probe.name]):
            return probe
    for probe in PROBES:
        if mac.lower().replace(":", "")[:6] in probe.ouis:
            return probe
    return None
