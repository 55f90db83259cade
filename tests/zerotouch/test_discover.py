"""Which DHCP clients and LLDP senders are phones, without sockets."""

from __future__ import annotations

from scapy.layers.dhcp import BOOTP, DHCP

from zerotouch.dhcp import parse_message
from zerotouch.discover import phone_from_dhcp, phone_from_lldp
from zerotouch.lldp import LldpInfo
from zerotouch.network import default_interface


def client(mac: str, *options: object):
    packet = BOOTP(op=1, chaddr=bytes.fromhex(mac)) / DHCP(
        options=[("message-type", "discover"), *options, "end"]
    )
    message = parse_message(bytes(packet))
    assert message is not None
    return message


def test_a_phone_is_known_by_its_option_60() -> None:
    phone = phone_from_dhcp(client("020000000001", ("vendor_class_id", b"snomD785")))
    assert phone is not None
    assert phone.as_report() == {
        "mac": "020000000001",
        "seen_by": "dhcp",
        "vendor": "snom",
        "detail": "option 60 snomD785",
    }


def test_or_by_its_mac_prefix_and_the_address_it_asks_for() -> None:
    phone = phone_from_dhcp(client("0004f2aabbcc", ("requested_addr", "192.0.2.7")))
    assert phone is not None and (phone.vendor, phone.address) == ("poly", "192.0.2.7")


def test_a_laptop_is_not_a_phone() -> None:
    assert phone_from_dhcp(client("3c22fb000001", ("vendor_class_id", b"MSFT 5.0"))) is None


def test_an_lldp_med_voice_endpoint_of_unknown_make_is_still_a_phone() -> None:
    phone = phone_from_lldp(LldpInfo(chassis_mac="020000000009", device_class=3), "")
    assert phone is not None and phone.vendor is None
    assert phone_from_lldp(LldpInfo(chassis_mac="020000000009", device_class=4), "") is None


def test_the_default_interface_comes_from_the_route_table() -> None:
    table = (
        "Iface\tDestination\tGateway\tFlags\n"
        "eth1\t0000A8C0\t00000000\t0001\n"
        "eth0\t00000000\t0100A8C0\t0003\n"
    )
    assert default_interface(table) == "eth0"
    assert default_interface(table.splitlines()[0]) is None
