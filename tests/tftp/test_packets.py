"""The pure TFTP codec: requests, names, options, encodings (tftpy as a second opinion)."""

from __future__ import annotations

import pytest
from tftpy.TftpPacketFactory import TftpPacketFactory
from tftpy.TftpPacketTypes import TftpPacketRRQ

from provisioner.errors import MalformedPacket
from provisioner.tftp.packets import (
    ErrorCode,
    Opcode,
    clean_name,
    data_header,
    encode_acknowledgement,
    encode_error,
    encode_option_acknowledgement,
    negotiate,
    parse_request,
    to_netascii,
)
from tests.tftp.client import read_request


def test_a_request_written_by_tftpy_parses_the_same():
    packet = TftpPacketRRQ()
    packet.filename = "Cisco/CP-8845-3PCC/805ec0123456.cfg"
    packet.mode = "octet"
    packet.options = {"blksize": "1468", "tsize": "0"}
    request = parse_request(packet.encode().buffer)
    assert request.opcode is Opcode.READ_REQUEST
    assert request.raw_name == b"Cisco/CP-8845-3PCC/805ec0123456.cfg"
    assert request.mode == "octet"
    assert dict(request.options) == {"blksize": "1468", "tsize": "0"}


def test_mode_and_option_names_are_case_insensitive():
    request = parse_request(read_request(b"a.cfg", b"NetASCII", BLKSIZE="1024", TSize="0"))
    assert request.mode == "netascii"
    assert dict(request.options) == {"blksize": "1024", "tsize": "0"}


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        b"\x00",
        b"\x00\x01",
        b"\x00\x03\x00\x01data",
        b"\x00\x09abc\x00octet\x00",
        b"\x00\x01name-without-nul",
        b"\x00\x01name\x00",
        b"\x00\x01name\x00octet",
        b"\x00\x01name\x00mail\x00",
        b"\x00\x01name\x00oct\xffet\x00",
    ],
    ids=[
        "empty",
        "one byte",
        "opcode only",
        "data",
        "opcode 9",
        "no NUL",
        "no mode",
        "mode without NUL",
        "mail mode",
        "non-ASCII mode",
    ],
)
def test_malformed_requests_raise_only_malformed_packet(datagram):
    with pytest.raises(MalformedPacket):
        parse_request(datagram)


def test_broken_options_are_skipped_not_fatal():
    request = parse_request(
        b"\x00\x01a\x00octet\x00blksize\x00abc\x00t\xffsize\x000\x00dangling\x00"
    )
    assert dict(request.options) == {"blksize": "abc"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"805ec0123456.cfg", "805ec0123456.cfg"),
        (b"/spa508G.cfg", "spa508G.cfg"),
        (b"//Cisco/./CP-8845-3PCC//805ec0123456.cfg", "Cisco/CP-8845-3PCC/805ec0123456.cfg"),
        ("caf\u00e9.cfg".encode(), "caf\u00e9.cfg"),
    ],
)
def test_clean_names(raw, expected):
    assert clean_name(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"../etc/passwd",
        b"/../../etc/passwd",
        b"cfg/../../secret",
        b"..",
        b"",
        b"/",
        b"\xff\xfe",
        b"a\x01b.cfg",
        b"..\\..\\boot.ini",
        b"x" * 256,
    ],
    ids=[
        "dotdot",
        "absolute dotdot",
        "inner dotdot",
        "only dotdot",
        "empty",
        "root",
        "not UTF-8",
        "control char",
        "backslashes",
        "too long",
    ],
)
def test_unsafe_names_are_refused(raw):
    with pytest.raises(MalformedPacket):
        clean_name(raw)


@pytest.mark.parametrize(
    ("options", "block_size", "timeout", "acknowledged"),
    [
        ({}, 512, None, {}),
        ({"blksize": "1468", "tsize": "0"}, 1468, None, {"blksize": "1468", "tsize": "9000"}),
        ({"blksize": "abc"}, 512, None, {}),
        ({"blksize": "4"}, 512, None, {}),
        ({"blksize": "-8"}, 512, None, {}),
        ({"blksize": "99999999999999999999"}, 512, None, {}),
        ({"blksize": "65464"}, 8192, None, {"blksize": "8192"}),
        ({"tsize": "x"}, 512, None, {}),
        ({"timeout": "3"}, 512, 3.0, {"timeout": "3"}),
        ({"timeout": "0"}, 512, None, {}),
        ({"timeout": "256"}, 512, None, {}),
        ({"timeout": "255"}, 512, None, {}),
        ({"timeout": "5"}, 512, 5.0, {"timeout": "5"}),
        ({"windowsize": "4", "utimeout": "1000"}, 512, None, {}),
    ],
)
def test_negotiation(options, block_size, timeout, acknowledged):
    result = negotiate(options, file_size=9000, maximum_block_size=8192)
    assert result.block_size == block_size
    assert result.timeout_seconds == timeout
    assert dict(result.acknowledged) == acknowledged


def test_our_packets_parse_in_tftpy():
    factory = TftpPacketFactory()
    oack = factory.parse(encode_option_acknowledgement({"blksize": "1468", "tsize": "12"}))
    assert oack.options == {"blksize": "1468", "tsize": "12"}
    error = factory.parse(encode_error(ErrorCode.ACCESS_VIOLATION, "Access violation"))
    assert (error.errorcode, error.errmsg) == (2, b"Access violation")
    data = factory.parse(data_header(70000) + b"payload")
    assert (data.blocknumber, data.data) == (70000 - 65536, b"payload")


def test_acknowledgements_wrap_like_block_numbers():
    assert encode_acknowledgement(0x1234) == b"\x00\x04\x12\x34"
    assert encode_acknowledgement(65536 + 7) == b"\x00\x04\x00\x07"


def test_netascii_line_ends():
    assert to_netascii(b"a\nb\r\nc\rd") == b"a\r\nb\r\0\r\nc\r\0d"
