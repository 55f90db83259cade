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
    encode_option_acknowledgement,
    parse_acknowledgement,
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
        outcome = exchange(channel, encode_option_acknowledgement(options.acknowledged), 0)
        if outcome is not Outcome.ACKNOWLEDGED:
            return outcome
    view = memoryview(content)
    block_size = options.block_size
    block = 1
    offset = 0
    while True:
        chunk = view[offset : offset + block_size]
        outcome = exchange(channel, data_header(block) + chunk, block & 0xFFFF)
        if outcome is not Outcome.ACKNOWLEDGED:
            return outcome
        if len(chunk) < block_size:
            return Outcome.COMPLETED
        offset += block_size
        block += 1


def exchange(channel: Channel, packet: bytes, expected_block: int) -> Outcome:
    """Send one packet until its ACK arrives, at most ``1 + retries`` times."""
    for _attempt in range(channel.policy.retries + 1):
        try:
            channel.connection.send(packet)
        except ConnectionRefusedError:
            return Outcome.CLIENT_GONE
        except OSError:
            pass  # a failed send is a lost packet: wait, then resend (ENOBUFS, EPERM by a filter)
        outcome = wait_for_acknowledgement(channel, expected_block)
        if outcome is not Outcome.TIMED_OUT:
            return outcome
    return Outcome.TIMED_OUT


def wait_for_acknowledgement(channel: Channel, expected_block: int) -> Outcome:
    """Read until the expected ACK, an ERROR, a stop or the timeout; other datagrams are ignored."""
    remaining = channel.policy.timeout_seconds
    deadline = time.monotonic() + remaining
    while True:
        if not channel.waiter.wait(remaining):
            return Outcome.STOPPED if channel.waiter.stop.is_set() else Outcome.TIMED_OUT
        outcome = receive_acknowledgement(channel.connection, expected_block)
        if outcome is not None:
            return outcome
        # A duplicate or stale ACK, or noise: wait out the period, never resend because of it.
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Outcome.TIMED_OUT


def receive_acknowledgement(connection: socket.socket, expected_block: int) -> Outcome | None:
    """Read one datagram: the outcome it decides, or None when it is to be ignored."""
    try:
        datagram = connection.recv(RECEIVE_BUFFER)
    except BlockingIOError:
        return None
    except OSError:  # ECONNREFUSED: the ICMP "port unreachable" of a client that went away
        return Outcome.CLIENT_GONE
    block = parse_acknowledgement(datagram)
    if block == expected_block:
        return Outcome.ACKNOWLEDGED
    if block is None and parse_error(datagram) is not None:
        return Outcome.CLIENT_ERROR
    return None
