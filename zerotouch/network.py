"""The raw-socket edge (scapy): send the phones' DISCOVERs, hear offers and LLDP, listen for
booting phones. Everything here is I/O; what the bytes mean is in dhcp.py and lldp.py."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zerotouch.dhcp import BOOTREPLY, BOOTREQUEST, OFFER, DhcpMessage, build_discover, parse_message
from zerotouch.lldp import LLDP_ETHERTYPE, LldpInfo, parse_lldp
from zerotouch.vendors import PhoneVendorProbe

ETH_P_ALL = 0x0003
NO_RAW_SOCKETS = (
    "zerotouch needs raw sockets to speak DHCP as a phone and to hear LLDP, and this user may "
    "not open them. Run it as root (sudo zerotouch ...), or allow it once for this Python: "
    'sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v python3)")"'
)


class AgentError(Exception):
    """A problem that stops the agent, with a message saying what to do."""


def raw_socket_problem() -> str | None:
    """None when raw sockets can be opened here, else the plain message with the fix."""
    try:
        probe = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    except PermissionError:
        return NO_RAW_SOCKETS
    probe.close()
    return None


def default_interface(route_table: str) -> str | None:
    """The interface of the default route in ``/proc/net/route`` text."""
    for line in route_table.splitlines()[1:]:
        columns = line.split()
        if len(columns) > 2 and columns[1] == "00000000":
            return columns[0]
    return None


def choose_interface(requested: str | None) -> str:
    """``requested``, else the default route's interface; AgentError when neither exists."""
    if requested:
        if not Path("/sys/class/net", requested).exists():
            raise AgentError(f"no network interface {requested!r}; list them with `ip link`")
        return requested
    routes = Path("/proc/net/route")
    found = default_interface(routes.read_text()) if routes.exists() else None
    if found is None:
        raise AgentError("no default route to pick an interface from; give --iface IFACE")
    return found


def interface_mac(interface: str) -> bytes:
    """The interface's own MAC (the Ethernet source of what we send)."""
    text = Path("/sys/class/net", interface, "address").read_text().strip()
    return bytes.fromhex(text.replace(":", ""))


@dataclass
class Heard:
    """What the sniffer collected: offers by xid, LLDP frames."""

    offers: dict[int, DhcpMessage] = field(default_factory=dict)
    lldp: list[LldpInfo] = field(default_factory=list)


def _frame(interface: str, payload: bytes) -> Any:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    source = ":".join(f"{byte:02x}" for byte in interface_mac(interface))
    return (
        Ether(src=source, dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / Raw(payload)
    )


def _sniffer(interface: str, handle: Callable[[Any], None]) -> Any:
    """A started AsyncSniffer on ``interface`` (no BPF: libpcap may be absent)."""
    import scapy.layers.inet
    import scapy.layers.l2  # noqa: F401  (registers Ethernet, so frames are decoded)
    from scapy.sendrecv import AsyncSniffer

    started = threading.Event()
    sniffer = AsyncSniffer(iface=interface, store=False, prn=handle, started_callback=started.set)
    sniffer.start()
    if not started.wait(5):
        sniffer.stop()
        raise AgentError(f"could not listen on {interface}")
    return sniffer


def _dispatch(
    packet: Any,
    on_dhcp: Callable[[DhcpMessage, str], None],
    on_lldp: Callable[[LldpInfo, str], None],
) -> None:
    """Hand one captured frame to the right reader; a malformed one is skipped."""
    from scapy.layers.inet import UDP
    from scapy.layers.l2 import Ether

    if not packet.haslayer(Ether):
        return
    source = str(packet[Ether].src).replace(":", "")
    if packet[Ether].type == LLDP_ETHERTYPE:
        on_lldp(parse_lldp(bytes(packet[Ether].payload)), source)
    elif packet.haslayer(UDP) and {packet[UDP].sport, packet[UDP].dport} == {67, 68}:
        message = parse_message(bytes(packet[UDP].payload))
        if message is not None:
            on_dhcp(message, source)


def ask_as_phones(
    interface: str,
    probes: tuple[PhoneVendorProbe, ...],
    timeout: float,
    lldp_seconds: float,
    rng: random.Random | None = None,
) -> tuple[dict[str, DhcpMessage | None], list[LldpInfo]]:
    """Send each vendor's DISCOVER (resent once), collect OFFERs and LLDP, all bounded in time.

    No REQUEST follows, so no lease is taken and there is nothing to release: an OFFER only
    reserves an address in the server's memory until it times out."""
    chance = rng or random.SystemRandom()
    wanted = {chance.getrandbits(32): probe for probe in probes}
    heard = Heard()

    def on_dhcp(message: DhcpMessage, _source: str) -> None:
        if message.op == BOOTREPLY and message.xid in wanted and message.message_type == OFFER:
            heard.offers.setdefault(message.xid, message)

    def on_lldp(info: LldpInfo, _source: str) -> None:
        heard.lldp.append(info)

    frames = {
        xid: _frame(interface, build_discover(probe, _probe_mac(probe, chance), xid))
        for xid, probe in wanted.items()
    }
    sniffer = _sniffer(interface, lambda packet: _dispatch(packet, on_dhcp, on_lldp))
    try:
        _exchange(interface, frames, heard, timeout, lldp_seconds)
    finally:
        sniffer.stop()
    offers = {probe.name: heard.offers.get(xid) for xid, probe in wanted.items()}
    return offers, heard.lldp


def _probe_mac(probe: PhoneVendorProbe, chance: random.Random) -> bytes:
    return bytes.fromhex(probe.ouis[0]) + bytes(chance.getrandbits(8) for _ in range(3))


def _exchange(
    interface: str, frames: dict[int, Any], heard: Heard, timeout: float, lldp_seconds: float
) -> None:
    from scapy.sendrecv import sendp

    start = time.monotonic()
    resent = False
    for frame in frames.values():
        sendp(frame, iface=interface, verbose=False)
    while True:
        elapsed = time.monotonic() - start
        offers_done = len(heard.offers) == len(frames) or elapsed >= timeout
        lldp_done = any(info.voice_policy() for info in heard.lldp) or elapsed >= lldp_seconds
        if offers_done and lldp_done:
            return
        if not resent and elapsed >= timeout / 2:
            resent = True
            for xid, frame in frames.items():
                if xid not in heard.offers:
                    sendp(frame, iface=interface, verbose=False)
        time.sleep(0.05)


def listen(
    interface: str,
    seconds: float,
    on_dhcp: Callable[[DhcpMessage, str], None],
    on_lldp: Callable[[LldpInfo, str], None],
) -> None:
    """Hand every DHCP client message and LLDP frame heard for ``seconds`` to the callbacks."""

    def client_only(message: DhcpMessage, source: str) -> None:
        if message.op == BOOTREQUEST:
            on_dhcp(message, source)

    sniffer = _sniffer(interface, lambda packet: _dispatch(packet, client_only, on_lldp))
    try:
        time.sleep(seconds)
    finally:
        sniffer.stop()
