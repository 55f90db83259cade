"""Frames a switch or a booting phone puts on the LAN, built with scapy (a codec independent of
the agent's own readers). Run inside a namespace: ``python -m tests.zerotouch.senders KIND IFACE
SECONDS``; it repeats the frame every 0.2 s for SECONDS, so the listener cannot miss it."""

from __future__ import annotations

import sys
import time
from typing import Any

LLDP_MULTICAST = "01:80:c2:00:00:0e"
TIA = 0x0012BB
SWITCH_MAC = "02:aa:bb:cc:dd:01"
YEALINK_PHONE = "80:5e:c0:77:88:99"
POLY_PHONE = "64:16:7f:aa:bb:cc"


def voice_policy(vlan: int, priority: int, dscp: int) -> bytes:
    """LLDP-MED network policy for voice, tagged (TIA-1057: app, U T X, VLAN, L2 prio, DSCP)."""
    bits = (1 << 22) | (vlan << 9) | (priority << 6) | dscp
    return bytes([1]) + bits.to_bytes(3, "big")


def switch_lldp() -> Any:
    """A switch announcing voice VLAN 100, priority 5, DSCP 46."""
    from scapy.contrib import lldp
    from scapy.layers.l2 import Ether

    return (
        Ether(src=SWITCH_MAC, dst=LLDP_MULTICAST, type=0x88CC)
        / lldp.LLDPDUChassisID(subtype=4, id=SWITCH_MAC)
        / lldp.LLDPDUPortID(subtype=5, id=b"ge-0/0/7")
        / lldp.LLDPDUTimeToLive(ttl=120)
        / lldp.LLDPDUSystemName(system_name=b"sw-kantoor")
        / lldp.LLDPDUGenericOrganisationSpecific(
            org_code=TIA, subtype=2, data=voice_policy(100, 5, 46)
        )
        / lldp.LLDPDUEndOfLLDPDU()
    )


def phone_lldp() -> Any:
    """A Poly phone: LLDP-MED capabilities with device class 3 (voice endpoint), its model."""
    from scapy.contrib import lldp
    from scapy.layers.l2 import Ether

    return (
        Ether(src=POLY_PHONE, dst=LLDP_MULTICAST, type=0x88CC)
        / lldp.LLDPDUChassisID(subtype=4, id=POLY_PHONE)
        / lldp.LLDPDUPortID(subtype=3, id=POLY_PHONE)
        / lldp.LLDPDUTimeToLive(ttl=120)
        / lldp.LLDPDUGenericOrganisationSpecific(org_code=TIA, subtype=1, data=b"\x00\x33\x03")
        / lldp.LLDPDUGenericOrganisationSpecific(org_code=TIA, subtype=10, data=b"VVX 450")
        / lldp.LLDPDUEndOfLLDPDU()
    )


def phone_discover() -> Any:
    """A Yealink phone's DHCP DISCOVER (option 60 ``yealink``)."""
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    chaddr = bytes.fromhex(YEALINK_PHONE.replace(":", ""))
    return (
        Ether(src=YEALINK_PHONE, dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / BOOTP(chaddr=chaddr, xid=0x1234)
        / DHCP(options=[("message-type", "discover"), ("vendor_class_id", b"yealink"), "end"])
    )


FRAMES = {"switch-lldp": switch_lldp, "phone-lldp": phone_lldp, "phone-dhcp": phone_discover}


def main(kinds: str, interface: str, seconds: float) -> None:
    """Send each frame in ``kinds`` (comma-separated) every 0.2 s for ``seconds``."""
    from scapy.config import conf
    from scapy.sendrecv import sendp

    conf.contribs.setdefault("LLDP", {})
    frames = [FRAMES[kind]() for kind in kinds.split(",")]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for frame in frames:
            sendp(frame, iface=interface, verbose=False)
        time.sleep(0.2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
