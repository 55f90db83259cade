"""A TFTP client on a raw UDP socket, for the packets real clients never send."""

from __future__ import annotations

import socket
import struct

from provisioner.tftp.packets import Opcode

Packet = tuple[int, bytes, tuple[str, int]]


def read_request(name: bytes, mode: bytes = b"octet", **options: str | bytes) -> bytes:
    """An RRQ datagram, written out by hand (independent of the code under test)."""
    body = name + b"\0" + mode + b"\0"
    for option, value in options.items():
        raw = value if isinstance(value, bytes) else value.encode()
        body += option.encode() + b"\0" + raw + b"\0"
    return struct.pack("!H", 1) + body


class RawClient:
    """One client port on loopback: send datagrams, read what comes back."""

    def __init__(self, server: tuple[str, int], timeout: float = 5.0) -> None:
        family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        self.socket.bind((server[0], 0))
        self.socket.settimeout(timeout)
        self.server = server

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, datagram: bytes, to: tuple[str, int] | None = None) -> None:
        self.socket.sendto(datagram, to or self.server)

    def receive(self, timeout: float | None = None) -> Packet | None:
        """(opcode, rest after the opcode, sender), or None when nothing arrives in time."""
        if timeout is not None:
            self.socket.settimeout(timeout)
        try:
            datagram, sender = self.socket.recvfrom(65536)
        except TimeoutError:
            return None
        opcode = struct.unpack("!H", datagram[:2])[0]
        return opcode, datagram[2:], sender[:2]

    def acknowledge(self, block: int, to: tuple[str, int]) -> None:
        self.send(struct.pack("!HH", Opcode.ACKNOWLEDGEMENT, block), to)

    def download(self, name: bytes, block_size: int | None = None) -> bytes:
        """A whole read transfer: RRQ (with blksize if given), OACK/ACK 0, DATA/ACK to the end."""
        options = {"blksize": str(block_size)} if block_size else {}
        self.send(read_request(name, **options))
        size = block_size or 512
        content = b""
        expected = 1
        while True:
            packet = self.receive()
            assert packet is not None, "the server stopped answering"
            opcode, rest, sender = packet
            if opcode == Opcode.OPTION_ACKNOWLEDGEMENT:
                self.acknowledge(0, sender)
                continue
            assert opcode == Opcode.DATA, f"expected DATA, got opcode {opcode}: {rest!r}"
            block = struct.unpack("!H", rest[:2])[0]
            self.acknowledge(block, sender)
            if block == expected & 0xFFFF:
                content += rest[2:]
                expected += 1
                if len(rest) - 2 < size:
                    return content


def error_of(packet: Packet | None) -> tuple[int, str] | None:
    """The (code, message) of an ERROR packet."""
    if packet is None or packet[0] != Opcode.ERROR:
        return None
    code = struct.unpack("!H", packet[1][:2])[0]
    return code, packet[1][2:].rstrip(b"\0").decode()


def options_of(packet: Packet | None) -> dict[str, str]:
    """The options of an OACK packet."""
    assert packet is not None and packet[0] == Opcode.OPTION_ACKNOWLEDGEMENT, packet
    fields = packet[1].split(b"\0")[:-1]
    return {fields[i].decode(): fields[i + 1].decode() for i in range(0, len(fields), 2)}


def block_of(packet: Packet | None) -> tuple[int, bytes]:
    """The (block number, data) of a DATA packet."""
    assert packet is not None and packet[0] == Opcode.DATA, packet
    return struct.unpack("!H", packet[1][:2])[0], packet[1][2:]
