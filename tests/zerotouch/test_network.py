"""The agent's REQUEST step without sockets: each probe's REQUEST goes to a DHCP server that
behaves as dnsmasq does with one free address, and its answers are heard as the sniffer hears
them. Deterministic: the server answers as each message is sent, no timing is involved."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field

from zerotouch.dhcp import (
    ACK,
    BOOTREPLY,
    NAK,
    OFFER,
    RELEASE,
    REQUEST,
    DhcpMessage,
    parse_message,
)
from zerotouch.network import Heard, Sender, request_in_turn
from zerotouch.vendors import PROBES

SERVER = "10.99.0.1"
FREE_ADDRESS = "10.99.0.104"
SERVER_MAC = "020000000001"


def reply(xid: int, client_mac: str, message_type: int, text: bytes = b"") -> DhcpMessage:
    options = {53: bytes([message_type]), 54: ipaddress.IPv4Address(SERVER).packed}
    if text:
        options[56] = text
    address = FREE_ADDRESS if message_type != NAK else "0.0.0.0"
    return DhcpMessage(BOOTREPLY, xid, client_mac, address, SERVER, options)


@dataclass
class OneFreeAddress:
    """A server with one free address, as dnsmasq: it offered that address to every probe (an
    offer reserves nothing), grants a REQUEST for it unless another client holds its lease
    ("address in use"), and frees the lease on RELEASE. ``late``: xids whose ACK it sends only
    with its answer to the next REQUEST (a slow server)."""

    heard: Heard
    lease_holder: str | None = None
    late: set[int] = field(default_factory=set)
    held_back: list[DhcpMessage] = field(default_factory=list)
    received: list[tuple[int, int]] = field(default_factory=list)

    def offer_to_all(self, xids: list[int], macs: dict[int, bytes]) -> None:
        for xid in xids:
            self.heard.hear(reply(xid, macs[xid].hex(), OFFER), Sender(SERVER_MAC, SERVER))

    def receive(self, payload: bytes) -> None:
        message = parse_message(payload)
        assert message is not None and message.message_type in (REQUEST, RELEASE)
        self.received.append((message.message_type, message.xid))
        if message.message_type == RELEASE and self.lease_holder == message.client_mac:
            self.lease_holder = None
        if message.message_type != REQUEST:
            return
        assert message.options[50] == ipaddress.IPv4Address(FREE_ADDRESS).packed
        answers, self.held_back = self.held_back, []
        if self.lease_holder not in (None, message.client_mac):
            answers.append(reply(message.xid, message.client_mac, NAK, b"address in use"))
        else:
            self.lease_holder = message.client_mac
            granted = reply(message.xid, message.client_mac, ACK)
            (self.held_back if message.xid in self.late else answers).append(granted)
        for answer in answers:
            self.heard.hear(answer, Sender(SERVER_MAC, SERVER))


def probes_offered_one_address(late: set[int] | None = None) -> tuple[OneFreeAddress, dict]:
    heard = Heard(start=time.monotonic())
    wanted = {xid: probe for xid, probe in enumerate(PROBES, start=1)}
    macs = {xid: bytes.fromhex(probe.ouis[0]) + bytes([0, 0, xid]) for xid, probe in wanted.items()}
    server = OneFreeAddress(heard, late=late or set())
    server.offer_to_all(list(wanted), macs)
    return server, {"wanted": wanted, "macs": macs, "heard": heard}


def test_probes_offered_the_same_address_are_each_granted_it_in_turn() -> None:
    server, step = probes_offered_one_address()
    request_in_turn(server.receive, timeout=1.0, **step)
    answers = step["heard"].answers
    types = {xid: [item.message.message_type for item in answers[xid].values()] for xid in answers}
    assert types == {xid: [ACK] for xid in step["wanted"]}
    # Each lease is given back before the next probe asks for the address.
    assert server.received == [(kind, xid) for xid in step["wanted"] for kind in (REQUEST, RELEASE)]
    assert server.lease_holder is None


def test_a_probe_refused_a_lease_our_own_slow_ack_held_asks_again_once() -> None:
    server, step = probes_offered_one_address(late={1})
    request_in_turn(server.receive, timeout=0.2, **step)
    answers = step["heard"].answers
    # The first probe's ACK came with the answer to the second probe's REQUEST, which was
    # refused "address in use"; the second asked again once the first lease was given back.
    types = {xid: [item.message.message_type for item in answers[xid].values()] for xid in answers}
    assert types == {xid: [ACK] for xid in step["wanted"]}
    assert server.received.count((REQUEST, 2)) == 2
    asked_again = max(i for i, item in enumerate(server.received) if item == (REQUEST, 2))
    assert server.received.index((RELEASE, 1)) < asked_again
    assert server.lease_holder is None
