"""DHCP without sockets: the DISCOVER each vendor sends, read back by scapy (an independent
codec), and offers built by scapy read by the agent."""

from __future__ import annotations

import pytest
from scapy.layers.dhcp import BOOTP, DHCP

from zerotouch.dhcp import (
    build_discover,
    build_release,
    build_request,
    parse_message,
    parse_options,
    read_offer,
)
from zerotouch.vendors import POLY, PROBES, YEALINK

MAC = bytes.fromhex("805ec0010203")


def scapy_options(packet: BOOTP) -> dict[object, object]:
    return {item[0]: item[1] for item in packet[DHCP].options if isinstance(item, tuple)}


@pytest.mark.parametrize("probe", PROBES, ids=[probe.name for probe in PROBES])
def test_each_vendor_discover_carries_its_class_and_request_list(probe) -> None:
    packet = BOOTP(build_discover(probe, MAC, 0xCAFE))
    options = scapy_options(packet)
    assert packet.xid == 0xCAFE
    assert packet.flags == 0x8000  # the answer is broadcast: we have no address yet
    assert packet.chaddr[:6] == MAC
    assert options["message-type"] == 1
    assert options["vendor_class_id"] == probe.vendor_class
    assert list(options["param_req_list"]) == list(probe.parameter_requests)


def test_yealink_asks_as_the_reference_capture_does() -> None:
    assert YEALINK.parameter_requests == (1, 3, 6, 15, 42, 43, 66, 67, 120, 132, 133, 150, 160)


def test_poly_sends_an_rfc_3925_class_with_enterprise_13885() -> None:
    assert POLY.vendor_class[:4] == b"\x00\x00\x36\x3d"
    assert POLY.vendor_class[4] == len(POLY.vendor_class) - 5


def offer(*options: object) -> bytes:
    packet = BOOTP(op=2, xid=7, yiaddr="10.0.0.9", chaddr=MAC) / DHCP(
        options=[("message-type", "offer"), *options, "end"]
    )
    return bytes(packet)


def test_an_offer_is_read_option_by_option() -> None:
    message = parse_message(
        offer(
            ("tftp_server_name", b"http://prov.example.net/p/\x00"),
            ("boot-file-name", b"boot.cfg"),
            ("tftp_server_address", "192.0.2.1"),
            (159, b"https://alt.example.net/"),
            (160, b"https://prov.example.net/p/"),
            ("vendor_specific", b"\x01\x03abc\x02\x01z"),
            (120, b"\x00\x03sip\x07example\x03net\x00"),
            (132, b"100"),
            (157, b"VLAN-A=20;"),
        )
    )
    assert message is not None and message.xid == 7 and message.message_type == 2
    read = read_offer(message)
    assert read.server_name == "http://prov.example.net/p/"
    assert read.boot_file == "boot.cfg"
    assert read.tftp_addresses == ("192.0.2.1",)
    assert read.option_159 == "https://alt.example.net/"
    assert read.option_160 == "https://prov.example.net/p/"
    assert read.vendor_specific == {1: "abc", 2: "z"}
    assert read.sip_servers == ("sip.example.net",)
    assert read.vlan == 100
    assert read.poly_vlan == 20
    assert read.offered_address == "10.0.0.9"


def test_option_43_that_is_not_sub_options_is_kept_as_hex() -> None:
    message = parse_message(offer(("vendor_specific", b"\x05\x09ab")))
    assert message is not None
    assert read_offer(message).vendor_specific_raw == "050961 62".replace(" ", "")


def test_a_vlan_sent_as_a_number_and_sip_servers_as_addresses() -> None:
    message = parse_message(offer((132, b"\x00\x64"), (120, b"\x01\xc0\x00\x02\x05")))
    assert message is not None
    assert read_offer(message).vlan == 100
    assert read_offer(message).sip_servers == ("192.0.2.5",)


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x02" * 10, b"\x02" * 236 + b"nope", offer()[:-3] + b"\x42\xff"],
    ids=["empty", "short", "no cookie", "truncated option"],
)
def test_malformed_messages_never_raise(payload: bytes) -> None:
    message = parse_message(payload)
    if message is not None:
        read_offer(message)


def test_repeated_options_are_joined() -> None:
    assert parse_options(b"\x42\x02ab\x42\x01c\xff") == {66: b"abc"}


def test_the_request_names_the_offered_address_and_its_server_and_the_release_gives_it_back() -> (
    None
):
    offered = parse_message(offer(("server_id", "10.0.0.1")))
    assert offered is not None and offered.server_id == "10.0.0.1"
    request = BOOTP(build_request(YEALINK, MAC, 0xCAFE, offered))
    options = scapy_options(request)
    assert options["message-type"] == 3
    assert options["requested_addr"] == "10.0.0.9"
    assert options["server_id"] == "10.0.0.1"
    assert options["vendor_class_id"] == YEALINK.vendor_class
    ack = parse_message(offer(("server_id", "10.0.0.1")))
    assert ack is not None
    release = BOOTP(build_release(MAC, 0xCAFE, ack))
    assert release.ciaddr == "10.0.0.9"
    assert scapy_options(release)["message-type"] == 7
    assert scapy_options(release)["server_id"] == "10.0.0.1"


def test_a_nak_carries_the_servers_words() -> None:
    message = parse_message(offer(("message-type", "nak"), ("error_message", b"no leases left")))
    assert message is not None and message.server_message == "no leases left"


def test_option_43_holding_a_url_as_text_is_that_url() -> None:
    message = parse_message(offer(("vendor_specific", b"http://prov.example.net/p/")))
    assert message is not None
    read = read_offer(message)
    assert read.vendor_specific_text == "http://prov.example.net/p/"
    assert read.value_of(43) == "http://prov.example.net/p/"
    assert read.as_json()["43"] == "http://prov.example.net/p/"
