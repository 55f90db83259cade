"""LLDP and LLDP-MED without I/O: read the voice VLAN a switch announces, or what a phone says.

An LLDP frame is TLVs (7-bit type, 9-bit length). LLDP-MED lives in organisation-specific TLVs
(type 127) under the TIA OUI 00-12-BB: subtype 1 capabilities (with the device class, 3 = voice
endpoint), 2 network policy (application 1 = voice: tagged, VLAN, 802.1p priority, DSCP),
5-11 inventory (zerotouch.md §2.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

LLDP_ETHERTYPE = 0x88CC
TIA_OUI = b"\x00\x12\xbb"
VOICE, VOICE_SIGNALING = 1, 2
INVENTORY_NAMES = {
    5: "hardware_revision",
    6: "firmware_revision",
    7: "software_revision",
    8: "serial",
    9: "manufacturer",
    10: "model",
    11: "asset",
}


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """One LLDP-MED network policy: which application on which VLAN with which marking."""

    application: int
    tagged: bool
    vlan: int
    priority: int
    dscp: int
    unknown: bool = False


@dataclass(frozen=True, slots=True)
class LldpInfo:
    """What one LLDP frame says about its sender."""

    chassis_mac: str | None = None
    port: str | None = None
    system_name: str | None = None
    system_description: str | None = None
    device_class: int | None = None
    policies: tuple[NetworkPolicy, ...] = ()
    inventory: dict[str, str] = field(default_factory=dict)

    def voice_policy(self) -> NetworkPolicy | None:
        """The voice application's policy, if announced."""
        return next((item for item in self.policies if item.application == VOICE), None)


def tlvs(payload: bytes) -> list[tuple[int, bytes]]:
    """The TLVs of an LLDPDU up to END; a truncated TLV ends the list (never raises)."""
    found = []
    position = 0
    while position + 2 <= len(payload):
        header = int.from_bytes(payload[position : position + 2], "big")
        kind, length = header >> 9, header & 0x1FF
        value = payload[position + 2 : position + 2 + length]
        if kind == 0 or len(value) < length:
            break
        found.append((kind, value))
        position += 2 + length
    return found


def parse_policy(value: bytes) -> NetworkPolicy | None:
    """A network policy TLV's 4 bytes: application, then U T X VLAN(12) priority(3) DSCP(6)."""
    if len(value) < 4:
        return None
    bits = int.from_bytes(value[1:4], "big")
    return NetworkPolicy(
        application=value[0],
        unknown=bool(bits >> 23 & 1),
        tagged=bool(bits >> 22 & 1),
        vlan=bits >> 9 & 0xFFF,
        priority=bits >> 6 & 0x7,
        dscp=bits & 0x3F,
    )


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace").strip("\0 ")


def parse_lldp(payload: bytes) -> LldpInfo:
    """The LLDPDU (the frame after its Ethernet header) as what it tells us."""
    chassis = port = name = description = None
    device_class: int | None = None
    policies: list[NetworkPolicy] = []
    inventory: dict[str, str] = {}
    for kind, value in tlvs(payload):
        if kind == 1 and len(value) == 7 and value[0] == 4:
            chassis = value[1:].hex()
        elif kind == 2 and value:
            port = value[1:].hex() if value[0] == 3 and len(value) == 7 else _text(value[1:])
        elif kind == 5:
            name = _text(value)
        elif kind == 6:
            description = _text(value)
        elif kind == 127 and value[:3] == TIA_OUI and len(value) >= 4:
            subtype, data = value[3], value[4:]
            if subtype == 1 and len(data) >= 3:
                device_class = data[2]
            elif subtype == 2 and (policy := parse_policy(data)) is not None:
                policies.append(policy)
            elif subtype in INVENTORY_NAMES:
                inventory[INVENTORY_NAMES[subtype]] = _text(data)
    return LldpInfo(chassis, port, name, description, device_class, tuple(policies), inventory)
