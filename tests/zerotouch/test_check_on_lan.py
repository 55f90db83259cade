"""``zerotouch check`` on a LAN made of two namespaces, against a real dnsmasq per case and
the real provisioner server the offered URL points to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.zerotouch.conftest import ServedLan, start_sender
from tests.zerotouch.lan import (
    PROJECT,
    ROGUE_ADDRESS,
    ROUTER_ADDRESS,
    SERVER_PORT,
    Dnsmasq,
    agent,
    stop_process,
)

URL = f"http://{ROUTER_ADDRESS}:{SERVER_PORT}/p/"
WRONG_URL = f"http://{ROUTER_ADDRESS}:{SERVER_PORT}/provisioning/"
FAST = ("--timeout", "3", "--lldp-wait", "0.3")


@pytest.fixture
def start_dnsmasq(served_lan: ServedLan, tmp_path: Path) -> Iterator[object]:
    started: list[Dnsmasq] = []

    def start(*options: str, **settings: object) -> Dnsmasq:
        folder = tmp_path / f"dnsmasq{len(started)}"
        server = Dnsmasq(served_lan.lan, folder, list(options), **settings)  # type: ignore[arg-type]
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def check(served_lan: ServedLan, *arguments: str) -> subprocess.CompletedProcess[str]:
    return agent(served_lan.lan, "check", "--iface", served_lan.lan.laptop_interface, *arguments)


def check_json(served_lan: ServedLan, *arguments: str, fast: bool = True) -> tuple[int, dict]:
    result = check(served_lan, "--json", *(FAST if fast else ("--lldp-wait", "0.3")), *arguments)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def finders(report: dict) -> set[str]:
    return {item["vendor"] for item in report["verdicts"] if item["finds"]}


def test_option_66_only_names_who_finds_the_server_and_fails(served_lan, start_dnsmasq) -> None:
    start_dnsmasq(f'66,"{URL}"')
    result = check(served_lan, *FAST)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Yealink phones will find you (option 66 gives " + URL in result.stdout
    assert "Snom phones will find you" in result.stdout
    assert "Cisco MPP phones will find you" in result.stdout
    assert "Grandstream phones will find you (option 66 gives " + URL in result.stdout, (
        result.stdout
    )
    assert "Poly phones will not find you, because option 160 is missing" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1] == (
        "FAIL: Yealink phones will find you; Poly phones will not find you; "
        "Snom phones will find you; Cisco MPP phones will find you; "
        "Grandstream phones will find you"
    )
    assert "{" not in result.stdout and "[" not in result.stdout  # no Python values


def test_options_66_and_160_let_every_vendor_find_the_server(served_lan, start_dnsmasq) -> None:
    start_dnsmasq(f'66,"{URL}"', f'160,"{URL}"')
    status, report = check_json(served_lan, "--server", URL)
    assert status == 0, report
    assert report["passed"] is True
    assert finders(report) == {"yealink", "poly", "snom", "cisco", "grandstream"}
    chosen = {item["vendor"]: item["option"] for item in report["verdicts"]}
    assert chosen == {"yealink": 160, "poly": 160, "snom": 66, "cisco": 66, "grandstream": 66}
    assert [server["address"] for server in report["dhcp_servers"]] == [ROUTER_ADDRESS]
    assert report["several_dhcp_servers"] is False
    assert report["answers"]["poly"]["request"] == "ack"
    assert report["offers"]["yealink"]["66"] == URL
    assert report["offers"]["poly"]["160"] == URL
    assert report["offers"]["yealink"]["offered_address"].startswith("10.99.0.")


def test_no_provisioning_options_means_no_vendor_finds_it(served_lan, start_dnsmasq) -> None:
    start_dnsmasq()
    status, report = check_json(served_lan)
    assert status == 1
    assert finders(report) == set()
    sentences = {item["vendor"]: item["sentence"] for item in report["verdicts"]}
    assert sentences["yealink"] == (
        "Yealink phones will not find you, because none of options 160, 66, 43 is offered"
    )
    assert sentences["snom"] == "Snom phones will not find you, because option 66 is missing"


def test_a_wrong_url_is_caught_by_fetching_what_the_phone_would(served_lan, start_dnsmasq) -> None:
    start_dnsmasq(f'66,"{WRONG_URL}"', f'160,"{WRONG_URL}"')
    status, report = check_json(served_lan)
    assert status == 1
    assert finders(report) == set()
    yealink = next(item for item in report["verdicts"] if item["vendor"] == "yealink")
    assert yealink["url"] == WRONG_URL + "y000000000000.boot"
    assert "answered HTTP 404" in yealink["sentence"]


def test_a_url_that_is_not_the_expected_server_is_named(served_lan, start_dnsmasq) -> None:
    start_dnsmasq(f'66,"{WRONG_URL}"', f'160,"{WRONG_URL}"')
    status, report = check_json(served_lan, "--server", URL)
    assert status == 1
    poly = next(item for item in report["verdicts"] if item["vendor"] == "poly")
    assert poly["sentence"] == (
        f"Poly phones will not find you, because option 160 gives {WRONG_URL}, "
        f"which is not your server {URL}"
    )


def test_an_option_the_phone_did_not_ask_for_is_not_offered(served_lan, start_dnsmasq) -> None:
    start_dnsmasq(f'66,"{URL}"', '159,"https://alt.example.net/"')
    _, report = check_json(served_lan, "--vendor", "yealink", "--vendor", "cisco")
    assert report["offers"]["yealink"]["159"] is None  # Yealink's option 55 lacks 159
    assert report["offers"]["cisco"]["159"] == "https://alt.example.net/"


def test_rich_options_are_reported_one_by_one(served_lan, start_dnsmasq) -> None:
    start_dnsmasq(
        f'66,"{URL}"',
        '67,"boot.cfg"',
        f"150,{ROUTER_ADDRESS}",
        'force:159,"https://alt.example.net/"',
        "43,01:04:61:62:63:64:02:01:7a",
        "120,01:0a:63:00:01",
        "132,00:64",
        'force:157,"VLAN-A=100;"',
    )
    _, report = check_json(served_lan, "--vendor", "yealink")
    offer = report["offers"]["yealink"]
    assert offer["67"] == "boot.cfg"
    assert offer["150"] == [ROUTER_ADDRESS]
    assert offer["159"] == "https://alt.example.net/"
    assert offer["43"] == {"1": "abcd", "2": "z"}
    assert offer["120"] == ["10.99.0.1"]
    assert offer["132"] == 100
    assert offer["poly_vlan"] == 100


def test_a_stock_dnsmasq_that_pings_before_offering_is_heard_for_every_vendor(
    served_lan, start_dnsmasq
) -> None:
    start_dnsmasq(f'66,"{URL}"', f'160,"{URL}"', stock=True)
    status, report = check_json(served_lan, fast=False)  # the default --timeout
    assert status == 0, report
    assert finders(report) == {"yealink", "poly", "snom", "cisco", "grandstream"}
    heard = sorted(item["offers"][0]["seconds"] for item in report["answers"].values())
    # dnsmasq pinged addresses first, one DISCOVER at a time: offers came ~3 s apart (two
    # probes offered one address share its ping, so at least four distinct waits, not five).
    assert heard[-1] - heard[0] >= 2.5 * 3, heard


def test_a_second_dhcp_server_is_reported_loudly(served_lan, start_dnsmasq) -> None:
    start_dnsmasq(f'66,"{URL}"', f'160,"{URL}"')
    rogue_url = f"http://{ROGUE_ADDRESS}/phones/"
    start_dnsmasq(f'66,"{rogue_url}"', f'160,"{rogue_url}"', rogue=True, stock=True)
    result = check(served_lan, "--lldp-wait", "0.3", "--vendor", "yealink", "--vendor", "poly")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "WARNING: 2 DHCP SERVERS ANSWERED ON THIS LAN." in result.stdout
    assert f"  {ROUTER_ADDRESS} (server id {ROUTER_ADDRESS}, MAC " in result.stdout
    assert f"  {ROGUE_ADDRESS} (server id {ROGUE_ADDRESS}, MAC " in result.stdout
    assert f"Yealink: {ROGUE_ADDRESS} offered 10.99.0.1" in result.stdout
    assert (
        f"Yealink phones will not find you, because of 2 DHCP servers, the one at {ROGUE_ADDRESS}"
        in result.stdout
    )
    status, report = check_json(served_lan, "--vendor", "snom", fast=False)
    assert status == 1
    assert {server["address"] for server in report["dhcp_servers"]} == {
        ROUTER_ADDRESS,
        ROGUE_ADDRESS,
    }
    assert report["several_dhcp_servers"] is True
    assert len(report["answers"]["snom"]["offers"]) == 2


def test_a_server_that_refuses_its_own_offer_is_reported_as_a_nak(
    served_lan, start_dnsmasq
) -> None:
    expiry = int(time.time()) + 300
    start_dnsmasq(
        f'66,"{URL}"',
        settings=["dhcp-lease-max=1"],
        leases=[f"{expiry} 02:00:00:00:00:09 10.99.0.149 * *"],  # the one lease is taken
    )
    result = check(served_lan, *FAST, "--vendor", "yealink")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "then REFUSED it (DHCPNAK: no leases left)" in result.stdout
    assert "Yealink phones will not find you, because the DHCP server at 10.99.0.1 offered" in (
        result.stdout
    )
    _, report = check_json(served_lan, "--vendor", "yealink")
    assert report["answers"]["yealink"]["request"] == "nak"
    assert report["answers"]["yealink"]["nak_message"] == "no leases left"


def test_tftp_only_options_are_checked_over_tftp(served_lan, start_dnsmasq) -> None:
    start_dnsmasq(f"66,{ROUTER_ADDRESS}", '67,"nosuch.htm"', f"150,{ROUTER_ADDRESS}")
    _, report = check_json(served_lan, "--vendor", "cisco", "--vendor", "snom")
    sentences = {item["vendor"]: item["sentence"] for item in report["verdicts"]}
    assert sentences["cisco"] == (
        f"Cisco MPP phones will find you (option 66 gives {ROUTER_ADDRESS}; "
        "8841-3PCC.xml answered over TFTP)"
    )
    assert sentences["snom"] == (
        f"Snom phones will not find you, because option 66 gives {ROUTER_ADDRESS}, but "
        f"tftp://{ROUTER_ADDRESS}/nosuch.htm was refused (TFTP: file not found)"
    )


def test_nothing_answering_gives_the_dhcp_snooping_hint(served_lan) -> None:
    result = check(served_lan, "--timeout", "1", "--lldp-wait", "0", "--vendor", "poly")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "No DHCP server answered any probe in 1 s." in result.stdout
    assert "DHCP snooping with MAC verification" in result.stdout
    assert (
        "Could not confirm that Poly phones will find you, because no DHCP server answered "
        "as they ask in 1 s" in result.stdout
    )
    assert result.stdout.rstrip().endswith("UNSURE: Poly phones: could not confirm")


def test_the_voice_vlan_a_switch_announces_by_lldp_med_is_reported(
    served_lan, start_dnsmasq
) -> None:
    start_dnsmasq(f'66,"{URL}"', f'160,"{URL}"')
    lan = served_lan.lan
    sender = start_sender(lan, lan.router, lan.router_interface, "switch-lldp", 15)
    try:
        result = check(served_lan, "--timeout", "3", "--lldp-wait", "12")
    finally:
        stop_process(sender)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LLDP-MED voice VLAN: 100 (tagged, priority 5, DSCP 46) from sw-kantoor" in result.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping a capability needs root")
def test_without_raw_socket_rights_it_says_so_with_the_fix() -> None:
    result = subprocess.run(
        ["setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw"]
        + [sys.executable, "-m", "zerotouch", "check", "--iface", "lo"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        check=False,
    )
    if result.stderr.startswith("setpriv:"):
        pytest.skip(f"this machine does not let root drop a capability: {result.stderr.strip()}")
    assert result.returncode == 2
    assert "Run it as root" in result.stderr
    assert "setcap cap_net_raw+ep" in result.stderr


def test_probes_offered_the_same_address_do_not_refuse_each_other(
    served_lan, start_dnsmasq
) -> None:
    # A pool of one address: dnsmasq offers it to every probe (an offer reserves nothing), so
    # every REQUEST after the first asks for an address one of our own probes was just granted.
    start_dnsmasq(f'66,"{URL}"', f'160,"{URL}"', pool="10.99.0.104,10.99.0.104")
    status, report = check_json(served_lan, "--server", URL)
    offered = {offer["offered_address"] for offer in report["offers"].values()}
    assert offered == {"10.99.0.104"}, report["offers"]
    assert {item["request"] for item in report["answers"].values()} == {"ack"}, report["answers"]
    assert status == 0, report
    assert finders(report) == {"yealink", "poly", "snom", "cisco", "grandstream"}
