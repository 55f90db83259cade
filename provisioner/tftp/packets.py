"""TFTP packets (RFC 1350) and options (RFC 2347/2348/2349), pure: bytes in, values out.

Every parser here is total: a datagram is either understood or rejected with
``MalformedPacket``, never with another exception, so no input can kill a server loop.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from provisioner.errors import MalformedPacket


class Opcode(IntEnum):
    """The first two bytes of every TFTP packet."""

    READ_REQUEST = 1
    WRITE_REQUEST = 2
    DATA = 3
    ACKNOWLEDGEMENT = 4
    ERROR = 5
    OPTION_ACKNOWLEDGEMENT = 6


class ErrorCode(IntEnum):
    """The error codes of RFC 1350 and RFC 2347."""

    NOT_DEFINED = 0
    FILE_NOT_FOUND = 1
    ACCESS_VIOLATION = 2
    DISK_FULL = 3
    ILLEGAL_OPERATION = 4
    UNKNOWN_TRANSFER_ID = 5
    FILE_EXISTS = 6
    NO_SUCH_USER = 7
    OPTION_REFUSED = 8


DEFAULT_BLOCK_SIZE = 512
MINIMUM_BLOCK_SIZE = 8  # RFC 2348
MAXIMUM_BLOCK_SIZE = 65464  # RFC 2348: fits one IPv4 UDP datagram with the 4-byte header
MAXIMUM_NAME_LENGTH = 255
# RFC 2349 lets a client ask for up to 255 s per retransmission; honoured, one datagram would
# hold a transfer slot for (retries + 1) x 255 s, so a handful could stall the service for
# minutes. Longer requests are not acknowledged: the service's own timer applies.
MAXIMUM_TIMEOUT_OPTION = 5
TRANSFER_MODES = ("octet", "netascii")

_HEADER = struct.Struct("!HH")
_OPCODE = struct.Struct("!H")


@dataclass(frozen=True, slots=True)
class Request:
    """A read or write request as it came off the wire (the name still raw bytes)."""

    opcode: Opcode
    raw_name: bytes
    mode: str
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TransferOptions:
    """What a transfer will use after negotiation, and the OACK text to send (empty: none)."""

    block_size: int = DEFAULT_BLOCK_SIZE
    timeout_seconds: float | None = None
    acknowledged: Mapping[str, str] = field(default_factory=dict)


def opcode_of(datagram: bytes) -> int | None:
    """The opcode number of a datagram, or None when it is shorter than two bytes."""
    if len(datagram) < 2:
        return None
    return int(_OPCODE.unpack_from(datagram)[0])


def parse_request(datagram: bytes) -> Request:
    """Parse an RRQ or WRQ: name, mode, then option name/value pairs, each NUL-terminated."""
    opcode = opcode_of(datagram)
    if opcode not in (Opcode.READ_REQUEST, Opcode.WRITE_REQUEST):
        raise MalformedPacket(f"not a request (opcode {opcode})")
    fields = datagram[2:].split(b"\0")
    if len(fields) < 3 or fields[-1] != b"":
        raise MalformedPacket("a request needs a NUL-terminated file name and mode")
    raw_name, raw_mode, *raw_options = fields[:-1]
    mode = _ascii_lower(raw_mode, "mode")
    if mode not in TRANSFER_MODES:
        raise MalformedPacket(f"unsupported transfer mode {mode!r}")
    return Request(Opcode(opcode), raw_name, mode, _parse_options(raw_options))


def _parse_options(raw_options: list[bytes]) -> dict[str, str]:
    """Option pairs by lower-case name; a dangling name or a non-ASCII pair is skipped."""
    options: dict[str, str] = {}
    for index in range(0, len(raw_options) - 1, 2):
        try:
            name = raw_options[index].decode("ascii").lower()
            value = raw_options[index + 1].decode("ascii")
        except UnicodeDecodeError:
            continue  # RFC 2347: options the server does not understand are ignored
        options.setdefault(name, value)
    return options


def _ascii_lower(raw: bytes, what: str) -> str:
    """Decode an ASCII protocol word, lower-cased."""
    try:
        return raw.decode("ascii").lower()
    except UnicodeDecodeError as exc:
        raise MalformedPacket(f"the {what} is not ASCII") from exc


def clean_name(raw_name: bytes) -> str:
    """A requested name as a safe relative path: UTF-8, no ``..``, no leading ``/``.

    Phones send ``/spa508G.cfg`` or ``Cisco/CP-8845-3PCC/<mac>.cfg``; both arrive here as plain
    relative names. Empty segments and ``.`` are dropped; ``..``, backslashes and control
    characters are refused, so a render function can never be led outside its tree.
    """
    try:
        name = raw_name.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPacket("the file name is not UTF-8") from exc
    if len(name) > MAXIMUM_NAME_LENGTH or any(ord(char) < 32 or char == "\x7f" for char in name):
        raise MalformedPacket("the file name is too long or holds control characters")
    if "\\" in name:
        raise MalformedPacket("the file name holds a backslash")
    segments = [segment for segment in name.split("/") if segment not in ("", ".")]
    if not segments or ".." in segments:
        raise MalformedPacket("the file name is empty or climbs out of the root")
    return "/".join(segments)


def negotiate(
    options: Mapping[str, str], file_size: int, maximum_block_size: int
) -> TransferOptions:
    """Accept blksize, tsize and timeout (up to ``MAXIMUM_TIMEOUT_OPTION``) when their values
    make sense; ignore the rest."""
    acknowledged: dict[str, str] = {}
    block_size = DEFAULT_BLOCK_SIZE
    timeout_seconds: float | None = None
    requested_block_size = _number(options.get("blksize"))
    if requested_block_size is not None and requested_block_size >= MINIMUM_BLOCK_SIZE:
        block_size = min(requested_block_size, maximum_block_size, MAXIMUM_BLOCK_SIZE)
        acknowledged["blksize"] = str(block_size)
    if _number(options.get("tsize")) is not None:
        acknowledged["tsize"] = str(file_size)
    requested_timeout = _number(options.get("timeout"))
    if requested_timeout is not None and 1 <= requested_timeout <= MAXIMUM_TIMEOUT_OPTION:
        timeout_seconds = float(requested_timeout)
        acknowledged["timeout"] = str(requested_timeout)
    return TransferOptions(block_size, timeout_seconds, acknowledged)


def _number(text: str | None) -> int | None:
    """A decimal option value, or None for a missing or non-numeric one (``blksize abc``)."""
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    return int(text)


def to_netascii(content: bytes) -> bytes:
    """RFC 764 line ends for netascii mode: LF becomes CR LF, a bare CR becomes CR NUL."""
    return content.replace(b"\r", b"\r\0").replace(b"\n", b"\r\n")


def data_header(block: int) -> bytes:
    """The four bytes in front of a DATA block; block numbers wrap to 0 after 65535."""
    return _HEADER.pack(Opcode.DATA, block & 0xFFFF)


def encode_acknowledgement(block: int) -> bytes:
    """An ACK of a block (numbers wrap like DATA's); the transfer compares ACKs to it whole."""
    return _HEADER.pack(Opcode.ACKNOWLEDGEMENT, block & 0xFFFF)


def encode_option_acknowledgement(acknowledged: Mapping[str, str]) -> bytes:
    """An OACK carrying the accepted options."""
    body = b"".join(
        name.encode("ascii") + b"\0" + value.encode("ascii") + b"\0"
        for name, value in acknowledged.items()
    )
    return _OPCODE.pack(Opcode.OPTION_ACKNOWLEDGEMENT) + body


def encode_error(code: ErrorCode, message: str) -> bytes:
    """An ERROR packet with an ASCII message."""
    text = message.encode("ascii", "replace")
    return _HEADER.pack(Opcode.ERROR, code) + text + b"\0"


def parse_error(datagram: bytes) -> tuple[int, str] | None:
    """The code and message of an ERROR packet, or None when the datagram is not one."""
    if len(datagram) < 4 or opcode_of(datagram) != Opcode.ERROR:
        return None
    code = int(_HEADER.unpack_from(datagram)[1])
    return code, datagram[4:].split(b"\0", 1)[0].decode("ascii", "replace")
