"""One read transfer, lock-step over a socket connected to the client (its own TID).

The sender retransmits only on its own timer, never on a duplicate ACK (the Sorcerer's
Apprentice bug of RFC 1350), and gives up after a bounded number of tries.
"""

from __future__ import annotations

import socket
import threading
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


def send_content(
    connection: socket.socket,
    content: bytes,
    options: TransferOptions,
    policy: RetransmitPolicy,
    stopping: threading.Event,
) -> Outcome:
    """Send ``content`` block by block (after an OACK when options were accepted)."""
    if options.timeout_seconds is not None:
        policy = RetransmitPolicy(options.timeout_seconds, policy.retries)
    connection.settimeout(policy.timeout_seconds)
    if options.acknowledged:
        oack = encode_option_acknowledgement(options.acknowledged)
        outcome = exchange(connection, oack, 0, policy, stopping)
        if outcome is not Outcome.ACKNOWLEDGED:
            return outcome
    view = memoryview(content)
    block_size = options.block_size
    block = 1
    offset = 0
    while True:
        chunk = view[offset : offset + block_size]
        outcome = exchange(connection, data_header(block) + chunk, block & 0xFFFF, policy, stopping)
        if outcome is not Outcome.ACKNOWLEDGED:
            return outcome
        if len(chunk) < block_size:
            return Outcome.COMPLETED
        offset += block_size
        block += 1


def exchange(
    connection: socket.socket,
    packet: bytes,
    expected_block: int,
    policy: RetransmitPolicy,
    stopping: threading.Event,
) -> Outcome:
    """Send one packet until its ACK arrives, at most ``1 + retries`` times."""
    for _attempt in range(policy.retries + 1):
        if stopping.is_set():
            return Outcome.STOPPED
        try:
            connection.send(packet)
        except ConnectionRefusedError:
            return Outcome.CLIENT_GONE
        except OSError:
            pass  # a failed send is a lost packet: wait, then resend (ENOBUFS, EPERM by a filter)
        outcome = wait_for_acknowledgement(connection, expected_block, policy, stopping)
        if outcome is not Outcome.TIMED_OUT:
            return outcome
    return Outcome.TIMED_OUT


def wait_for_acknowledgement(
    connection: socket.socket,
    expected_block: int,
    policy: RetransmitPolicy,
    stopping: threading.Event,
) -> Outcome:
    """Read until the expected ACK, an ERROR, or the timeout; other datagrams are ignored.

    The socket's timeout is the policy's on entry and on return; it is shortened only while
    waiting out the rest of the period after an ignored datagram.
    """
    deadline = time.monotonic() + policy.timeout_seconds
    try:
        while True:
            outcome = receive_acknowledgement(connection, expected_block, stopping)
            if outcome is not None:
                return outcome
            # A duplicate or stale ACK, or noise: keep waiting, never resend because of it.
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Outcome.TIMED_OUT
            connection.settimeout(remaining)
    finally:
        if connection.gettimeout() != policy.timeout_seconds:
            connection.settimeout(policy.timeout_seconds)


def receive_acknowledgement(
    connection: socket.socket, expected_block: int, stopping: threading.Event
) -> Outcome | None:
    """Read one datagram: the outcome it decides, or None when it is to be ignored."""
    try:
        datagram = connection.recv(RECEIVE_BUFFER)
    except TimeoutError:
        return Outcome.TIMED_OUT
    except ConnectionRefusedError:
        return Outcome.CLIENT_GONE
    except OSError:
        return Outcome.STOPPED if stopping.is_set() else Outcome.CLIENT_GONE
    if stopping.is_set():
        return Outcome.STOPPED
    block = parse_acknowledgement(datagram)
    if block == expected_block:
        return Outcome.ACKNOWLEDGED
    if block is None and parse_error(datagram) is not None:
        return Outcome.CLIENT_ERROR
    return None
