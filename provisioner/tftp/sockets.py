"""UDP sockets for the TFTP service: the listening port and one fresh port per transfer."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from provisioner.errors import TftpBindFailed

logger = logging.getLogger(__name__)

Address = tuple[Any, ...]  # (host, port) for IPv4, (host, port, flow info, scope id) for IPv6
RECEIVE_BUFFER = 65536
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux's value; Python 3.11 does not name it
ANCILLARY_SPACE = socket.CMSG_SPACE(32)


class StopSignal:
    """A stop flag that also wakes every thread polling it (a pipe that becomes readable).

    Closing or shutting down a UDP socket does not wake a thread blocked on it everywhere
    (not on this kernel), so every wait polls this pipe beside its socket.
    """

    def __init__(self) -> None:
        self._read_end, self._write_end = os.pipe()
        self._lock = threading.Lock()
        self.flag = False  # read on every block, so a plain attribute rather than an Event

    def set(self) -> None:
        """Raise the flag and wake every waiter, now and later (the byte is never read)."""
        with self._lock:
            if not self.flag:
                self.flag = True
                os.write(self._write_end, b"x")

    def is_set(self) -> bool:
        """Whether stop was asked."""
        return self.flag

    def fileno(self) -> int:
        """The descriptor to poll: readable once stop was asked."""
        return self._read_end

    def close(self) -> None:
        """Release the pipe (only once nobody polls it)."""
        os.close(self._read_end)
        os.close(self._write_end)


class Waiter:
    """Waits for a datagram on one socket, or for the stop signal, whichever comes first."""

    def __init__(self, connection: socket.socket, stop: StopSignal) -> None:
        connection.setblocking(False)
        poller = select.poll()
        poller.register(connection, select.POLLIN)
        poller.register(stop, select.POLLIN)
        self.poll = poller.poll
        self.stop = stop

    def wait(self, timeout_seconds: float | None) -> bool:
        """True when the socket has something to read (or an error to report) and no stop."""
        milliseconds = None if timeout_seconds is None else max(1, int(timeout_seconds * 1000))
        return bool(self.poll(milliseconds)) and not self.stop.flag


@dataclass
class ListeningSocket:
    """The well-known port; on a wildcard address it learns which address each request hit."""

    connection: socket.socket
    host: str
    wildcard: bool

    @classmethod
    def bind(cls, host: str, port: int) -> ListeningSocket:
        """Bind a UDP socket to ``host:port`` (port 0: an ephemeral one)."""
        try:
            family, _, _, _, address = socket.getaddrinfo(
                host or None, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE
            )[0]
            connection = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as exc:
            raise TftpBindFailed(f"TFTP cannot use the address {host!r}: {exc}") from exc
        try:
            wildcard = ipaddress.ip_address(address[0]).is_unspecified
            if wildcard:
                enable_destination_info(connection)
            connection.bind(address)
        except OSError as exc:
            connection.close()
            raise TftpBindFailed(bind_advice(host, port, exc)) from exc
        return cls(connection, str(address[0]), wildcard)

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port)."""
        host, port = self.connection.getsockname()[:2]
        return str(host), int(port)

    def receive(self, waiter: Waiter) -> tuple[bytes, Address, str] | None:
        """One datagram, its sender and the local address it was sent to; None on stop."""
        if not waiter.wait(None):
            return None
        try:
            if not self.wildcard:
                datagram, client = self.connection.recvfrom(RECEIVE_BUFFER)
                return datagram, client, self.host
            datagram, ancillary, _flags, client = self.connection.recvmsg(
                RECEIVE_BUFFER, ANCILLARY_SPACE
            )
        except BlockingIOError:
            return None
        except OSError as exc:
            logger.debug("TFTP: receive failed: %s", exc)
            time.sleep(0.01)  # never spin on a socket that keeps failing
            return None
        return datagram, client, destination_of(ancillary) or self.host

    def send(self, packet: bytes, client: Address) -> None:
        """Send from the listening port; a failure (EPERM, EINVAL, ...) is logged, not raised."""
        try:
            self.connection.sendto(packet, client)
        except OSError as exc:
            logger.info("TFTP: could not answer %s: %s", client, exc)

    def close(self) -> None:
        """Release the port."""
        self.connection.close()


def bind_advice(host: str, port: int, error: OSError) -> str:
    """Why binding failed, and what to do about it."""
    where = f"TFTP cannot listen on {host}:{port}: {error.strerror or error}"
    if error.errno == errno.EACCES:
        return f"{where}; a port below 1024 needs root or CAP_NET_BIND_SERVICE (or use 6969)"
    if error.errno == errno.EADDRINUSE:
        return f"{where}; another TFTP server (tftpd-hpa?) holds it: stop it or pick another port"
    return f"{where}; check that the address belongs to this machine"


def enable_destination_info(connection: socket.socket) -> None:
    """Ask the kernel for each datagram's destination address (IP_PKTINFO / IPV6_RECVPKTINFO)."""
    if connection.family == socket.AF_INET6:
        connection.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    else:
        connection.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)


def destination_of(ancillary: list[tuple[int, int, bytes]]) -> str | None:
    """The destination address from the packet-info control message, if there is one."""
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(data) >= 12:
            return socket.inet_ntop(socket.AF_INET, data[8:12])  # in_pktinfo.ipi_addr
        if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO and len(data) >= 16:
            return socket.inet_ntop(socket.AF_INET6, data[:16])  # in6_pktinfo.ipi6_addr
    return None


@contextlib.contextmanager
def open_transfer_socket(local_host: str, client: Address) -> Iterator[socket.socket]:
    """A fresh UDP port on the address the request came to, connected to the client.

    Connecting makes the kernel drop datagrams from anyone else and report a closed client
    port (ICMP) as ``ConnectionRefusedError``.
    """
    family = socket.AF_INET6 if ":" in local_host else socket.AF_INET
    connection = socket.socket(family, socket.SOCK_DGRAM)
    try:
        connection.bind((local_host, 0))
        connection.connect(client)
        yield connection
    finally:
        connection.close()
