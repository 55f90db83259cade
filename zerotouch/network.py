"""The raw-socket edge (scapy): send the phones' DISCOVERs, hear offers and LLDP, listen for
booting phones. Everything here is I/O; what the bytes mean is in dhcp.py and lldp.py."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from zerotouch.answers import DhcpServer, ProbeAnswers, ServerReply
from zerotouch.dhcp import (
    ACK,
    BOOTREPLY,
    BOOTREQUEST,
    NAK,
    OFFER,
    DhcpMessage,
    build_discover,
    build_release,
    build_request,
    parse_message,
)
from zerotouch.lldp import LLDP_ETHERTYPE, LldpInfo, parse_lldp
from zerotouch.vendors import PhoneVendorProbe

ETH_P_ALL = 0x0003
# A DHCP server that pings an address before offering it (dnsmasq by default, ISC dhcpd's
# ping-check) answers about this long after it started on a DISCOVER, one DISCOVER at a time.
PING_SECONDS = 3.5
RESEND_SECONDS = 2.0
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


@dataclass(frozen=True, slots=True)
class Sender:
    """Where a captured frame came from: Ethernet and IP source."""

    mac: str
    address: str


@dataclass
class Heard:
    """What the sniffer collected: replies to our xids, LLDP frames, when the last new one came;
    which server each probe asked and which granted leases were given back."""

    start: float
    offers: dict[int, dict[DhcpServer, ServerReply]] = field(default_factory=dict)
    answers: dict[int, dict[DhcpServer, ServerReply]] = field(default_factory=dict)
    requested: dict[int, DhcpServer] = field(default_factory=dict)
    lldp: list[LldpInfo] = field(default_factory=list)
    last_new_offer: float = 0.0
    released: set[tuple[int, DhcpServer]] = field(default_factory=set)

    def reply(self, message: DhcpMessage, sender: Sender) -> ServerReply:
        """The message as one server's reply, timed from the start."""
        server = DhcpServer(message.server_id, sender.address, sender.mac)
        return ServerReply(message, server, time.monotonic() - self.start)

    def answered(self, xid: int) -> bool:
        """Whether the server a probe sent its REQUEST to has answered it (ACK or NAK)."""
        return self.requested.get(xid) in self.answers.get(xid, {})

    def hear(self, message: DhcpMessage, sender: Sender) -> None:
        """Keep a server's OFFER (one per server and probe), ACK or NAK."""
        reply = self.reply(message, sender)
        if message.message_type == OFFER:
            offers = self.offers.setdefault(message.xid, {})
            if reply.server not in offers:
                offers[reply.server] = reply
                self.last_new_offer = reply.seconds
        elif message.message_type in (ACK, NAK):
            self.answers.setdefault(message.xid, {}).setdefault(reply.server, reply)


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
    on_dhcp: Callable[[DhcpMessage, Sender], None],
    on_lldp: Callable[[LldpInfo, str], None],
) -> None:
    """Hand one captured frame to the right reader; a malformed one is skipped."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    if not packet.haslayer(Ether):
        return
    source = str(packet[Ether].src).replace(":", "")
    if packet[Ether].type == LLDP_ETHERTYPE:
        on_lldp(parse_lldp(bytes(packet[Ether].payload)), source)
    elif packet.haslayer(UDP) and {packet[UDP].sport, packet[UDP].dport} == {67, 68}:
        message = parse_message(bytes(packet[UDP].payload))
        if message is not None:
            address = str(packet[IP].src) if packet.haslayer(IP) else "0.0.0.0"
            on_dhcp(message, Sender(source, address))


def ask_as_phones(
    interface: str,
    probes: tuple[PhoneVendorProbe, ...],
    timeout: float,
    lldp_seconds: float,
    rng: random.Random | None = None,
) -> tuple[dict[str, ProbeAnswers], list[LldpInfo]]:
    """Ask as every vendor's phone: DISCOVER, every server's OFFER, REQUEST the first, ACK or
    NAK, then RELEASE what was granted; and LLDP. Every wait is bounded.

    Offers are collected until ``timeout`` seconds pass without a new one (so a second server,
    and a server that pings each address before offering, about 3 s per DISCOVER, are heard),
    and at most for ``timeout`` plus a ping's time per probe, plus ``timeout``; then each
    REQUEST waits at most ``timeout`` for its answer."""
    chance = rng or random.SystemRandom()
    wanted = {chance.getrandbits(32): probe for probe in probes}
    macs = {xid: _probe_mac(probe, chance) for xid, probe in wanted.items()}
    heard = Heard(start=time.monotonic())

    def on_dhcp(message: DhcpMessage, sender: Sender) -> None:
        if message.op == BOOTREPLY and message.xid in wanted:
            heard.hear(message, sender)

    def on_lldp(info: LldpInfo, _source: str) -> None:
        heard.lldp.append(info)

    discovers = {
        xid: _frame(interface, build_discover(probe, macs[xid], xid))
        for xid, probe in wanted.items()
    }
    sniffer = _sniffer(interface, lambda packet: _dispatch(packet, on_dhcp, on_lldp))
    try:
        limit = 2 * timeout + PING_SECONDS * len(probes)
        _collect_offers(interface, discovers, heard, timeout, limit)
        waited = time.monotonic() - heard.start
        request_in_turn(
            lambda payload: _send(interface, [_frame(interface, payload)]),
            wanted,
            macs,
            heard,
            timeout,
        )
        _wait_for_lldp(heard, lldp_seconds)
    finally:
        sniffer.stop()
    answers = {probe.name: _answers_of(heard, xid, waited) for xid, probe in wanted.items()}
    return answers, heard.lldp


def _answers_of(heard: Heard, xid: int, waited: float) -> ProbeAnswers:
    """One probe's offers (first first), the requested server's ACK or NAK, other servers' NAKs
    (an authoritative server may refuse a REQUEST meant for another: "wrong server-ID")."""
    offers = sorted(heard.offers.get(xid, {}).values(), key=lambda reply: reply.seconds)
    replies = heard.answers.get(xid, {})
    requested = heard.requested.get(xid)
    answer = replies.get(requested) if requested else None
    others = tuple(
        reply
        for server, reply in replies.items()
        if server != requested and reply.message.message_type == NAK
    )
    return ProbeAnswers(tuple(offers), answer, waited, others)


def _probe_mac(probe: PhoneVendorProbe, chance: random.Random) -> bytes:
    return bytes.fromhex(probe.ouis[0]) + bytes(chance.getrandbits(8) for _ in range(3))


def _send(interface: str, frames: list[Any]) -> None:
    from scapy.sendrecv import sendp

    for frame in frames:
        sendp(frame, iface=interface, verbose=False)


def _collect_offers(
    interface: str, frames: dict[int, Any], heard: Heard, timeout: float, limit: float
) -> None:
    """Send the DISCOVERs, resend the unanswered every 2 s, stop ``timeout`` after the last new
    offer (or ``limit`` after the start)."""
    sent = {xid: 0.0 for xid in frames}
    _send(interface, list(frames.values()))
    while True:
        elapsed = time.monotonic() - heard.start
        if elapsed >= min(heard.last_new_offer + timeout, limit):
            return
        again = [xid for xid in frames if xid not in heard.offers]
        again = [xid for xid in again if elapsed - sent[xid] >= RESEND_SECONDS]
        for xid in again:
            sent[xid] = elapsed
        _send(interface, [frames[xid] for xid in again])
        time.sleep(0.05)


def request_in_turn(
    send: Callable[[bytes], None],
    wanted: dict[int, PhoneVendorProbe],
    macs: dict[int, bytes],
    heard: Heard,
    timeout: float,
) -> None:
    """REQUEST each probe's first offer as the phone would, one probe at a time: wait for the
    ACK or NAK (resent every 2 s, bounded by ``timeout``), RELEASE what was granted, then the
    next probe; ACKs heard late are released at the end, so nothing is kept.

    In turn, because a server may offer one free address to several of our probes at once
    (dnsmasq reserves nothing for an offer): requested together, all but one would be refused
    "address in use" for a lease our own probe holds, a failure the customer's network never
    causes. Released before the next REQUEST, the address is free again when it is asked for.
    A probe refused an address another probe of ours was granted (its ACK came after we
    stopped waiting) asks once more, after that lease was given back."""
    for xid in list(heard.offers):
        _request_first_offer(send, wanted[xid], macs, heard, xid, timeout)
    for xid in _refused_for_our_own_lease(heard):
        del heard.answers[xid][heard.requested[xid]]
        _request_first_offer(send, wanted[xid], macs, heard, xid, timeout)
    _release_granted(send, macs, heard)


def _request_first_offer(
    send: Callable[[bytes], None],
    probe: PhoneVendorProbe,
    macs: dict[int, bytes],
    heard: Heard,
    xid: int,
    timeout: float,
) -> None:
    """REQUEST one probe's first offer, wait for the answer, RELEASE every granted lease."""
    first = min(list(heard.offers[xid].values()), key=lambda reply: reply.seconds)
    heard.requested[xid] = first.server
    request = build_request(probe, macs[xid], xid, first.message)
    _send_until_answered(send, request, partial(heard.answered, xid), timeout)
    _release_granted(send, macs, heard)


def _refused_for_our_own_lease(heard: Heard) -> list[int]:
    """Probes whose REQUEST was refused for an address a server granted another of our probes."""
    granted = {
        (server, reply.message.your_address): xid
        for xid, replies in list(heard.answers.items())
        for server, reply in list(replies.items())
        if reply.message.message_type == ACK
    }
    refused = []
    for xid, server in list(heard.requested.items()):
        answer = heard.answers.get(xid, {}).get(server)
        address = heard.offers[xid][server].message.your_address
        holder = granted.get((server, address))
        if answer and answer.message.message_type == NAK and holder not in (None, xid):
            refused.append(xid)
    return refused


def _send_until_answered(
    send: Callable[[bytes], None], payload: bytes, answered: Callable[[], bool], timeout: float
) -> None:
    """Send ``payload`` every 2 s until ``answered()`` or ``timeout`` seconds have passed."""
    started = time.monotonic()
    sent = -RESEND_SECONDS
    while not answered() and time.monotonic() - started < timeout:
        if time.monotonic() - started - sent >= RESEND_SECONDS:
            sent = time.monotonic() - started
            send(payload)
        else:
            time.sleep(0.05)


def _release_granted(send: Callable[[bytes], None], macs: dict[int, bytes], heard: Heard) -> None:
    """RELEASE every lease an ACK granted that is not released yet."""
    for xid, replies in list(heard.answers.items()):
        for server, reply in list(replies.items()):
            if reply.message.message_type == ACK and (xid, server) not in heard.released:
                heard.released.add((xid, server))
                send(build_release(macs[xid], xid, reply.message))


def _wait_for_lldp(heard: Heard, lldp_seconds: float) -> None:
    while time.monotonic() - heard.start < lldp_seconds:
        if any(info.voice_policy() for info in heard.lldp):
            return
        time.sleep(0.05)


def listen(
    interface: str,
    seconds: float,
    on_dhcp: Callable[[DhcpMessage, str], None],
    on_lldp: Callable[[LldpInfo, str], None],
) -> None:
    """Hand every DHCP client message and LLDP frame heard for ``seconds`` to the callbacks."""

    def client_only(message: DhcpMessage, sender: Sender) -> None:
        if message.op == BOOTREQUEST:
            on_dhcp(message, sender.mac)

    sniffer = _sniffer(interface, lambda packet: _dispatch(packet, client_only, on_lldp))
    try:
        time.sleep(seconds)
    finally:
        sniffer.stop()
