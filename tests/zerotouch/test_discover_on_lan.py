"""``zerotouch discover`` on the LAN: phones booting (DHCP, LLDP-MED) reach the server's
discovered-device list through the new API endpoint, with a technician token."""

from __future__ import annotations

import time

from provisioner.pairing.timeline import discovered
from provisioner.store import get_store
from tests.zerotouch.conftest import ServedLan, start_sender
from tests.zerotouch.lan import ROUTER_ADDRESS, SERVER_PORT, agent, stop_process
from tests.zerotouch.senders import POLY_PHONE, YEALINK_PHONE

SERVER = f"http://{ROUTER_ADDRESS}:{SERVER_PORT}"


def compact(mac: str) -> str:
    return mac.replace(":", "")


def test_booting_phones_are_reported_to_the_discovered_list(served_lan: ServedLan) -> None:
    lan = served_lan.lan
    sender = start_sender(lan, lan.router, lan.router_interface, "phone-dhcp,phone-lldp", 8)
    try:
        time.sleep(0.5)  # the sender's first frames while the agent starts are fine to miss
        result = agent(
            lan,
            "discover",
            "--server",
            SERVER,
            "--token",
            served_lan.technician_token,
            "--iface",
            lan.laptop_interface,
            "--seconds",
            "4",
        )
    finally:
        stop_process(sender)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{compact(YEALINK_PHONE)}  yealink  by DHCP (option 60 yealink): reported" in (
        result.stdout
    )
    assert f"{compact(POLY_PHONE)}  poly  by LLDP (VVX 450): reported" in result.stdout
    with get_store(served_lan.app).reading() as session:
        listed = {item["mac"]: item for item in discovered(session)}
    assert listed[compact(YEALINK_PHONE)]["protocol"] == "dhcp"
    assert listed[compact(YEALINK_PHONE)]["answer"] == "reported"
    assert listed[compact(POLY_PHONE)]["protocol"] == "lldp"


def test_a_refused_token_is_said_and_fails(served_lan: ServedLan) -> None:
    lan = served_lan.lan
    sender = start_sender(lan, lan.router, lan.router_interface, "phone-dhcp", 6)
    try:
        time.sleep(0.5)
        result = agent(
            lan, "discover", "--server", SERVER, "--token", "prov_wrong",
            "--iface", lan.laptop_interface, "--seconds", "2.5",
        )  # fmt: skip
    finally:
        stop_process(sender)
    assert result.returncode == 1
    assert "NOT reported (HTTP 401)" in result.stdout
