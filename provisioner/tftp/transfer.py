"""One read transfer, lock-step over a socket connected to the client (its own TID).

The sender retransmits only on its own timer, never on a duplicate ACK (the Sorcerer's
Apprentice bug of RFC 1350), and gives up after a bounded number of tries.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from enum import Enum

from provisioner.tftp.packets import (
    TransferOptions,
    data_header,
    encode_acknowledgement,
    encode_option_acknowledgement,
    parse_error,
)
from provisioner.tftp.sockets import StopSignal, Waiter

RECEIVE_BUFFER = 65536


class Outcome(Enum):
    """How a transfer (or one packet exchange within it) ended."""

    ACKNOWLEDGED = "acknowledged"
    COMPLETED = "completed"
    TIMED_OUT = "timed out"
    CLIENT_ERROR = "the client sent an error"
    CLIENT_GONE = "the client port is closed"
    STOPPED = "the service is stopping"


@dataclass(frozen=True, slots=True)
class RetransmitPolicy:
    """How long to wait for an ACK, and how often to resend before giving up."""

    timeout_seconds: float
    retries: int


@dataclass(frozen=True, slots=True)
class Channel:
    """The transfer's socket, how to wait on it, and how long."""

    connection: socket.socket
    waiter: Waiter
    policy: RetransmitPolicy


def send_content(
    connection: socket.socket,
    content: bytes,
    options: TransferOptions,
    policy: RetransmitPolicy,
    stop: StopSignal,
) -> Outcome:
    """Send ``content`` block by block (after an OACK when options were accepted)."""
    if options.timeout_seconds is not None:
        policy = RetransmitPolicy(options.timeout_seconds, policy.retries)
    channel = Channel(connection, Waiter(connection, stop), policy)
    if options.acknowledged:
        oack = encode_option_acknowledgement(options.acknowledged)
        outcome = exchange(channel, oack, encode_acknowledgement(0))
        if outcome is not Outcome.ACKNOWLEDGED:
            return outcome
    view = memoryview(content)
    block_size = options.block_size
    block = 1
    offset = 0
    while True:
        chunk = view[offset : offset + block_size]
        acknowledgement = encode_acknowledgement(block)
        outcome = exchange(channel, data_header(block) + chunk, acknowledgement)
        if outcome is not Outcome.ACKNOWLEDGED:
            return outcome
        if len(chunk) < block_size:
            return Outcome.COMPLETED
        offset += block_size
        block += 1


def exchange(channel: Channel, packet: bytes, acknowledgement: bytes) -> Outcome:
    """Send one packet until its ACK arrives, at most ``1 + retries`` times."""
    for _attempt in range(channel.policy.retries + 1):
        try:
            channel.connection.send(packet)
        except ConnectionRefusedError:
            return Outcome.CLIENT_GONE
        except OSError:
            pass  # a failed send is a lost packet: wait, then resend (ENOBUFS, EPERM by a filter)
        outcome = wait_for_acknowledgement(channel, acknowledgement)
        if outcome is not Outcome.TIMED_OUT:
            return outcome
    return Outcome.TIMED_OUT


def wait_for_acknowledgement(channel: Channel, acknowledgement: bytes) -> Outcome:
    """Read until the expected ACK, an ERROR, a stop or the timeout; other datagrams are ignored."""
    remaining = channel.policy.timeout_seconds
    deadline: float | None = None
    waiter = channel.waiter
    while True:
        if not waiter.wait(remaining):
            return Outcome.STOPPED if waiter.stop.flag else Outcome.TIMED_OUT
        try:
            datagram = channel.connection.recv(RECEIVE_BUFFER)
        except BlockingIOError:
            datagram = b""
        except OSError:  # ECONNREFUSED: the ICMP "port unreachable" of a client that went away
            return Outcome.CLIENT_GONE
        if datagram == acknowledgement:  # the common case: one comparison, no parsing
            return Outcome.ACKNOWLEDGED
        if parse_error(datagram) is not None:
            return Outcome.CLIENT_ERROR
        # A duplicate or stale ACK, or noise: wait out the period, never resend because of it.
        if deadline is None:
            deadline = time.monotonic() + remaining
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Outcome.TIMED_OUT
