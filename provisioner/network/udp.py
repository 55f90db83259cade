"""One UDP socket for every SNMPv2c request of the process, with its own BER codec (`ber.py`).

Requests are told apart by request-id; an answer counts only when it comes from the address
asked and carries the community sent (anything else on the socket is dropped). Timeouts and
retries are as pysnmp's: ``retries`` more sends of the same message, ``timeout`` seconds each.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from provisioner.network import ber
from provisioner.network.oids import Oid

# Answers to many requests in flight arrive in bursts while the loop is busy; with the
# default buffer the kernel dropped some (RcvbufErrors, then timeouts). Linux caps it at
# net.core.rmem_max (often 208 KiB; raise it on a large poller).
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
REQUEST_ID_LIMIT = 2**31


@dataclass(frozen=True, slots=True)
class Pending:
    """A request waiting for its answer."""

    address: tuple[str, int]
    community: bytes
    answer: asyncio.Future[ber.Response]


class V2cChannel(asyncio.DatagramProtocol):
    """The socket, the requests in flight, and the addresses resolved so far."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, Pending] = {}
        self.addresses: dict[tuple[str, int], tuple[str, int]] = {}
        self.dropped = 0  # datagrams that answered nothing we asked (malformed, late, spoofed)

    async def open(self) -> V2cChannel:
        """Bind an ephemeral IPv4 port in the running loop."""
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=("0.0.0.0", 0))
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            except OSError:
                pass  # the default buffer still works, with drops under bursts

    def close(self) -> None:
        """Close the socket; requests in flight end as timeouts."""
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def datagram_received(self, data: bytes, address: tuple[str, int]) -> None:
        try:
            response = ber.decode_response(data)
        except ber.BerError:
            self.dropped += 1
            return
        pending = self.pending.get(response.request_id)
        if (
            pending is None
            or pending.address != address[:2]
            or pending.community != response.community
            or pending.answer.done()
        ):
            self.dropped += 1
            return
        pending.answer.set_result(response)

    def error_received(self, exc: Exception) -> None:
        # An unconnected socket hears of ICMP errors only now and then, and not for whom:
        # after a timeout the client probes the device itself (snmp.probe_refusal).
        pass

    async def resolve(self, host: str, port: int) -> tuple[str, int]:
        """The IPv4 address of ``host`` (resolved once); OSError when it cannot be."""
        key = (host, port)
        if key not in self.addresses:
            loop = asyncio.get_running_loop()
            found = await loop.getaddrinfo(
                host, port, family=socket.AF_INET, type=socket.SOCK_DGRAM
            )
            if not found:
                raise OSError(f"no IPv4 address for {host}")
            ip, resolved_port = found[0][4][:2]
            self.addresses[key] = (str(ip), int(resolved_port))
        return self.addresses[key]

    def request_id(self) -> int:
        """A request-id not in flight, unpredictable: with the agent's address and the
        community, it is what a forged answer would have to guess."""
        while True:
            candidate = secrets.randbelow(REQUEST_ID_LIMIT - 1) + 1
            if candidate not in self.pending:
                return candidate

    async def request(
        self,
        address: tuple[str, int],
        community: bytes,
        names: Sequence[Oid],
        repetitions: int | None,
        timeout: float,
        retries: int,
    ) -> ber.Response | None:
        """Send a GET (or GETBULK) and wait for its answer; None when none came in time."""
        if self.transport is None:
            raise RuntimeError("the SNMP channel is closed")
        request_id = self.request_id()
        message = ber.encode_request(request_id, community, names, repetitions)
        answer: asyncio.Future[ber.Response] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = Pending(address, community, answer)
        try:
            for _ in range(retries + 1):
                if self.transport is None:
                    return None  # closed meanwhile
                self.transport.sendto(message, address)
                try:
                    return await asyncio.wait_for(asyncio.shield(answer), timeout)
                except TimeoutError:
                    continue
            return None
        finally:
            del self.pending[request_id]
            answer.cancel()
