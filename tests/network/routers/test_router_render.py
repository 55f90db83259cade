"""Router configurations per vendor: golden files, read back with strict readers of each
dialect, and values that would break out of their line refused. Regenerate the goldens after
a deliberate change with UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from ciscoconfparse import CiscoConfParse  # type: ignore[import-untyped]
from loguru import logger

from provisioner.errors import UnsafeConfigValue
from provisioner.network.routers.context import RouterUrls, router_context
from provisioner.network.routers.render import render_router, template_name
from provisioner.network.routers.reports import Report, parse_report
from provisioner.network.routers.vendors import ROUTER_VENDORS, router_vendor
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.yaml_io import read_tenant_document
from tests.conftest import DEMO_FILE
from tests.network.routers.readers import (
    ios_block,
    read_ios,
    read_routeros,
    read_uci,
    snmpd_users,
)

logger.disable("ciscoconfparse")  # it logs a notice on every parse

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "routers"
URL = "https://prov.example.net/p/"
ZEROTOUCH = "https://prov.example.net/"
AUTH_KEY, PRIV_KEY = "AuthKey0123456789", "PrivKey0123456789"
FETCH_SECRET = "FetchSecret0123456789"
DONE_URL = f"{ZEROTOUCH}z/HE7A1B2C3D4/{FETCH_SECRET}/done"
VENDORS = [vendor.name for vendor in ROUTER_VENDORS]


def demo(vendor: str, **changes: object) -> tuple[TenantDocument, object]:
    document = read_tenant_document(DEMO_FILE)
    router = document.routers[0].model_copy(
        update={
            "vendor": vendor,
            "snmp_auth_key": AUTH_KEY,
            "snmp_priv_key": PRIV_KEY,
            "fetch_secret": FETCH_SECRET,
            "tftp_server": "192.0.2.9",
            **changes,
        }
    )
    return document, router


def render(vendor: str, url: str = URL, template: str | None = None, **changes: object) -> str:
    document, router = demo(vendor, **changes)
    urls = RouterUrls(url, ZEROTOUCH)
    return render_router(router_context(document, router, urls), template)  # type: ignore[arg-type]


GOLDEN_CASES = [
    ("mikrotik", None, "mikrotik.rsc"),
    ("openwrt", None, "openwrt.uci"),
    ("openwrt", "uci-defaults.sh.j2", "openwrt-uci-defaults.sh"),
    ("cisco_ios", None, "cisco_ios.cfg"),
]


@pytest.mark.parametrize(
    ("vendor", "template", "file"), GOLDEN_CASES, ids=[c[2] for c in GOLDEN_CASES]
)
def test_golden(vendor: str, template: str | None, file: str) -> None:
    text = render(vendor, template=template)
    golden = GOLDEN / file
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_routeros_script_reads_back_as_the_voice_setup() -> None:
    commands = read_routeros(render("mikrotik"))
    by_path: dict[str, list] = {}
    for command in commands:
        by_path.setdefault(command.path, []).append(command)
    vlan = by_path["/interface vlan"][0]
    assert (vlan.verb, vlan.arguments["vlan-id"], vlan.arguments["interface"]) == (
        "add", "20", "bridge",
    )  # fmt: skip
    options = {c.arguments["code"]: c.arguments["value"] for c in by_path["/ip dhcp-server option"]}
    assert options == {
        "66": f"'{URL}'",
        "160": f"'{URL}'",
        "101": "'Europe/Amsterdam'",
        "150": "192.0.2.9",
    }
    sets = by_path["/ip dhcp-server option sets"][0].arguments["options"].split(",")
    assert set(sets) == {"provisioning-66", "provisioning-160", "timezone-101", "cisco-tftp-150"}
    alg = by_path["/ip firewall service-port"][0]
    assert (alg.verb, alg.positional, alg.arguments) == ("set", ("sip",), {"disabled": "yes"})
    marks = {
        (c.arguments["protocol"], c.arguments["dst-port"]): c.arguments["new-dscp"]
        for c in by_path["/ip firewall mangle"]
    }
    assert marks == {
        ("udp", "5060-5061"): "24",
        ("tcp", "5060-5061"): "24",
        ("udp", "16384-32768"): "46",
    }
    assert by_path["/system ntp client"][0].arguments["servers"] == "nl.pool.ntp.org"
    snmp = by_path["/snmp community"][0].arguments
    assert snmp["name"] == "provisioner"
    assert (snmp["authentication-protocol"], snmp["authentication-password"]) == ("SHA1", AUTH_KEY)
    assert (snmp["encryption-protocol"], snmp["encryption-password"]) == ("AES", PRIV_KEY)


def routeros_commands(path: str, **changes: object) -> list:
    return [c for c in read_routeros(render("mikrotik", **changes)) if c.path == path]


def test_routeros_dhcp_server_is_created_enabled() -> None:
    [server] = routeros_commands("/ip dhcp-server")
    assert server.arguments["disabled"] == "no"


def test_routeros_voice_vlan_is_in_the_lan_interface_list() -> None:
    # The default firewall accepts DNS/NTP to the router only from interfaces in list LAN.
    [member] = routeros_commands("/interface list member")
    assert (member.verb, member.arguments["list"], member.arguments["interface"]) == (
        "add", "LAN", "voice",
    )  # fmt: skip


def test_routeros_import_again_adds_nothing_twice() -> None:
    """Each add runs only when a find on its own name or comment comes back empty."""
    for command in read_routeros(render("mikrotik")):
        if command.verb != "add":
            continue
        assert command.guard, f"{command.path} add is not guarded"
        assert command.guard.items() <= command.arguments.items(), command.path


def test_routeros_snmp_answers_the_poller_network_only() -> None:
    [community] = routeros_commands("/snmp community")
    assert community.arguments["addresses"] == "198.51.100.0/28"


def test_uci_batch_reads_back_as_the_voice_setup() -> None:
    state = read_uci(render("openwrt"))
    assert state.committed
    assert state.types["network.voice"] == "interface"
    assert state.options["network.voice_vlan.vid"] == "20"
    assert state.options["network.voice.ipaddr"] == "10.20.0.1"
    assert state.lists["dhcp.voice.dhcp_option"] == [
        f'66,"{URL}"', f'160,"{URL}"', "42,10.20.0.1", '101,"Europe/Amsterdam"', "150,192.0.2.9",
    ]  # fmt: skip
    assert state.options["firewall.@defaults[0].auto_helper"] == "0"
    assert state.options["firewall.voice_sip.set_dscp"] == "CS3"
    assert state.options["firewall.voice_rtp.set_dscp"] == "EF"
    assert state.lists["system.ntp.server"] == ["nl.pool.ntp.org"]


def test_the_openwrt_snmp_user_is_one_the_snmpd_init_script_creates() -> None:
    state = read_uci(render("openwrt"))
    assert snmpd_users(state) == [f'createUser provisioner SHA "{AUTH_KEY}" AES "{PRIV_KEY}"']
    assert state.options["snmpd.provisioner.allow_write"] == "0"


def test_openwrt_answers_snmp_from_the_poller_network_only() -> None:
    options = read_uci(render("openwrt")).options
    rules = [
        {key.rsplit(".", 1)[1]: value for key, value in options.items() if key.startswith(rule)}
        for rule in ("firewall.snmp_poller.", "firewall.snmp_others.")
    ]
    assert [(r["src"], r.get("src_ip"), r["dest_port"], r["target"]) for r in rules] == [
        ("*", "198.51.100.0/28", "161", "ACCEPT"), ("*", None, "161", "DROP"),
    ]  # fmt: skip
    assert options["snmpd.public.source"] == "198.51.100.0/28"  # the v1/v2c community too


def batch_of(script: str) -> str:
    return script.split("<<'PROVISIONER_UCI'\n", 1)[1].split("\nPROVISIONER_UCI\n", 1)[0]


def test_openwrt_fetched_script_carries_the_batch_and_commits_it_itself() -> None:
    script = render("openwrt", template="uci-defaults.sh.j2")
    state = read_uci(batch_of(script) + "\n")
    assert state.options["network.voice_vlan.vid"] == "20" and not state.committed
    assert snmpd_users(state) and "snmpd.local.conf" not in script
    assert "if ! uci commit; then" in script.splitlines()


def stand_in(folder: Path, name: str, body: str) -> None:
    """An executable shell script ``folder``/``name`` doing ``body``."""
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / name
    tool.write_text(f"#!/bin/sh\n{body}\n")
    tool.chmod(0o755)


def wait_for(path: Path, seconds: float = 10) -> str:
    """The text of ``path`` once something wrote it (the script reports in the background)."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.read_text()


def run_with_uci(tmp_path: Path, script: str, uci_body: str) -> tuple[int, list[str], str]:
    """Run ``script`` with a stand-in ``uci`` first on PATH (it logs its arguments) and a
    ``wget`` that logs what it would send; only the path where the batch fails is run: the
    other restarts this machine's services. The exit status, uci's calls, wget's call."""
    tools = tmp_path / "bin"
    stand_in(tools, "uci", f'echo "$*" >> {tmp_path}/calls\n{uci_body}')
    stand_in(tools, "logger", "exit 0")
    stand_in(
        tools,
        "wget",
        f'echo "$*" > {tmp_path}/report.tmp; mv {tmp_path}/report.tmp {tmp_path}/report',
    )
    ran = subprocess.run(
        ["sh", "-c", script], env={"PATH": f"{tools}:/usr/bin:/bin"}, timeout=30, check=False
    )
    report = wait_for(tmp_path / "report")
    return ran.returncode, (tmp_path / "calls").read_text().splitlines(), report


def test_openwrt_script_fails_and_reverts_when_a_batch_line_fails(tmp_path: Path) -> None:
    script = render("openwrt", template="uci-defaults.sh.j2")
    # uci batch reports a failed line on stderr only and exits 0 anyway.
    fails = 'case "$1" in batch) cat >/dev/null; echo "uci: Invalid argument" >&2;; esac'
    status, calls, report = run_with_uci(tmp_path, script, fails)
    assert status == 1
    assert calls == ["batch"] + [
        f"revert {config}" for config in ("system", "network", "dhcp", "firewall", "snmpd")
    ]
    # ... and tells the provisioner, at the router's done URL, that it failed and why.
    arguments = report.split()
    assert arguments[-1] == DONE_URL
    [data] = [
        item.removeprefix("--post-data=") for item in arguments if item.startswith("--post-data=")
    ]
    assert parse_report(data.encode()) == Report(
        "failed", "uci batch failed (logread -e provisioner)"
    )


def test_ios_lines_read_back_as_the_voice_setup() -> None:
    tree = read_ios(render("cisco_ios"))
    top = [line.text for line in tree]
    assert "no ip nat service sip udp port 5060" in top
    assert "ntp server nl.pool.ntp.org" in top
    pool = ios_block(tree, "ip dhcp pool VOICE")
    assert f'option 66 ascii "{URL}"' in pool and f'option 160 ascii "{URL}"' in pool
    assert "option 150 ip 192.0.2.9" in pool
    assert ios_block(tree, "interface GigabitEthernet0/1.20")[:2] == [
        "description provisioner voice VLAN", "encapsulation dot1Q 20",
    ]  # fmt: skip
    marking = next(line for line in tree if line.text == "policy-map VOICE-MARKING")
    assert [(c.text, [g.text for g in c.children]) for c in marking.children] == [
        ("class VOICE-RTP", ["set dscp ef"]), ("class VOICE-SIP", ["set dscp cs3"]),
    ]  # fmt: skip
    assert (
        f"snmp-server user provisioner PROVISIONER v3 auth sha {AUTH_KEY} priv aes 128 {PRIV_KEY}"
        in top
    )


def ios_parse(text: str) -> CiscoConfParse:
    return CiscoConfParse(text.splitlines(), syntax="ios")


def children(parse: CiscoConfParse, header: str) -> list[str]:
    [parent] = parse.find_objects(rf"^{re.escape(header)}$")
    return [child.text.strip() for child in parent.children]


@pytest.mark.parametrize(
    ("model", "lan", "wan"),
    [
        ("ISR4321", "GigabitEthernet0/0/1", "GigabitEthernet0/0/0"),
        ("C1111-4P", "GigabitEthernet0/0/1", "GigabitEthernet0/0/0"),
        ("CISCO2911", "GigabitEthernet0/1", "GigabitEthernet0/0"),
        ("1941", "GigabitEthernet0/1", "GigabitEthernet0/0"),
    ],
)
def test_ios_interface_names_follow_the_model(model: str, lan: str, wan: str) -> None:
    parse = ios_parse(render("cisco_ios", model=model))
    assert children(parse, f"interface {lan}.20")[1:3] == [
        "encapsulation dot1Q 20", "ip address 10.20.0.1 255.255.255.0",
    ]  # fmt: skip
    assert "ip nat outside" in children(parse, f"interface {wan}")
    assert "ip nat inside source list VOICE-NAT interface " + wan + " overload" in [
        line.text for line in parse.find_objects(r"^ip nat inside source")
    ]


def test_an_explicit_ios_interface_wins_over_the_model() -> None:
    parse = ios_parse(render("cisco_ios", model="ISR4321", lan_interface="GigabitEthernet0/0/2"))
    assert parse.find_objects(r"^interface GigabitEthernet0/0/2\.20$")


def test_ios_nat_covers_the_voice_network() -> None:
    parse = ios_parse(render("cisco_ios"))
    assert "ip nat inside" in children(parse, "interface GigabitEthernet0/1.20")
    [rule] = parse.find_objects(r"^ip nat inside source list ")
    acl = rule.text.split()[5]
    assert children(parse, f"ip access-list standard {acl}") == ["permit 10.20.0.0 0.0.0.255"]


def test_ios_snmp_group_answers_the_poller_network_only() -> None:
    parse = ios_parse(render("cisco_ios"))
    [group] = parse.find_objects(r"^snmp-server group PROVISIONER ")
    assert group.text.endswith(" access SNMP-POLLER")
    assert children(parse, "ip access-list standard SNMP-POLLER") == [
        "permit 198.51.100.0 0.0.0.15"
    ]


BREAKOUTS = {
    "quote": f'{URL}"\n/system reset-configuration',
    "single quote": f"{URL}'; reboot",
    "newline": f"{URL}\nreload",
    "semicolon": f"{URL};reload",
}


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("value", BREAKOUTS.values(), ids=list(BREAKOUTS))
def test_a_value_cannot_break_out_of_its_line(vendor: str, value: str) -> None:
    with pytest.raises(UnsafeConfigValue, match="would break out of its line"):
        render(vendor, url=value)


@pytest.mark.parametrize(
    ("vendor", "character"),
    [("mikrotik", "$"), ("mikrotik", "["), ("openwrt", ","), ("openwrt", "$"), ("cisco_ios", "?")],
)
def test_each_dialect_refuses_what_it_would_evaluate(vendor: str, character: str) -> None:
    with pytest.raises(
        UnsafeConfigValue, match=repr(character).replace("[", r"\[").replace("$", r"\$")
    ):
        render(vendor, url=f"{URL}x{character}y")


def test_the_refusal_never_repeats_the_value() -> None:
    with pytest.raises(UnsafeConfigValue) as caught:
        render("mikrotik", url="https://secret-token-in-url/;")
    assert "secret-token-in-url" not in str(caught.value)


def test_a_model_template_is_preferred_and_the_base_is_the_fallback() -> None:
    assert template_name(router_vendor("mikrotik"), "no-such-model") == "base.rsc.j2"
    assert template_name(router_vendor("cisco_ios"), "") == "base.cfg.j2"


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_router_stored_before_snmp_allowed_from_still_renders_unrestricted(vendor: str) -> None:
    # Upgraded stores hold routers without the field; their next fetch must not fail.
    text = render(vendor, snmp_allowed_from=None)
    assert "0.0.0.0" in text
