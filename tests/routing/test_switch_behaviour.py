"""The handler against FreeSWITCH as its source says it behaves (issue 12): queues whose members
change, agents whose status the switch owns, how a bridge reports success, fax mail headers,
and diversions written ``kind:value``."""

from __future__ import annotations

import copy
import email
import email.policy
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from provisioner.routing.callcenter import callcenter_document
from provisioner.routing.engine import walk
from provisioner.routing.fax import deliver_fax
from provisioner.routing.route import build_route
from provisioner.routing.session_adapter import SessionAdapter
from provisioner.tenants.schema import TenantDocument
from tests.routing.conftest import DOMAIN, amsterdam, call, demo_document, demo_sounds
from tests.routing.fake_freeswitch import CallCenter, Caller, FreeswitchModule, Session
from tests.routing.test_steps import BOX, VOICEMAIL, minimal_tiff, with_flow

OPEN = amsterdam(2026, 11, 25, 10, 0)
QUEUE = f"wachtrij-1@{DOMAIN}"


def agent(number: str) -> str:
    return f"{number}@{DOMAIN}"


def hoofdroute(document: TenantDocument) -> dict[str, Any]:
    route = build_route(document, "5000", "provider", demo_sounds(document))
    assert route is not None
    return route


def started_switch(document: TenantDocument) -> FreeswitchModule:
    """A switch whose mod_callcenter loaded the demo's callcenter.conf at start-up."""
    callcenter = CallCenter(callcenter_document([document]))
    callcenter.start()
    return FreeswitchModule(OPEN, callcenter=callcenter)


def queue_commands(module: FreeswitchModule) -> list[str]:
    return [command for command in module.api_commands if command.startswith("callcenter_config")]


LISTINGS = ["callcenter_config queue list", f"callcenter_config queue list tiers {QUEUE}"]


# --- 1 and 2: queue membership and agent status --------------------------------------------


def test_an_agent_taken_out_of_the_queue_is_removed_on_the_switch_at_the_next_caller():
    document = demo_document()
    switch = started_switch(document)
    assert (QUEUE, agent("242")) in switch.callcenter.tiers
    switch.callcenter.agents[agent("241")]["status"] = "On Break"  # max-no-answer, or by hand
    document.queues[0].agents = ["240", "241"]  # 242 removed from Wachtrij 1
    switch.callcenter.configuration = callcenter_document([document])  # what the server says now
    fetches = switch.callcenter.fetches

    call(hoofdroute(document), Caller(agent_answers=True), OPEN, switch)

    commands = queue_commands(switch)
    assert f"callcenter_config tier del {QUEUE} {agent('242')}" in commands
    assert f"callcenter_config agent del {agent('242')}" in commands  # in no queue any more
    assert (QUEUE, agent("242")) not in switch.callcenter.tiers
    assert agent("242") not in switch.callcenter.agents
    assert switch.callcenter.agents[agent("241")]["status"] == "On Break"
    assert not any("reload" in command for command in commands)
    assert switch.callcenter.fetches == fetches  # callcenter.conf is not fetched per caller


def test_an_unchanged_queue_costs_two_listings_and_leaves_every_status_alone():
    document = demo_document()
    switch = started_switch(document)
    statuses = {"240": "Logged Out", "241": "On Break", "242": "Available"}
    for number, status in statuses.items():
        switch.callcenter.agents[agent(number)]["status"] = status

    call(hoofdroute(document), Caller(agent_answers=True), OPEN, switch)

    assert queue_commands(switch) == LISTINGS
    for number, status in statuses.items():
        assert switch.callcenter.agents[agent(number)]["status"] == status


def test_an_agent_added_to_the_queue_is_created_available_once():
    document = demo_document()
    switch = started_switch(document)
    document.queues[0].agents = ["240", "241", "242", "243"]

    call(hoofdroute(document), Caller(agent_answers=True), OPEN, switch)

    created = switch.callcenter.agents[agent("243")]
    assert created["status"] == "Available"
    assert created["contact"] == f"[leg_timeout=20]user/243@{DOMAIN}"
    assert created["max_no_answer"] == "3"
    assert switch.callcenter.tiers[(QUEUE, agent("243"))]["position"] == "4"
    # The next caller finds it there: nothing is created or set again.
    created["status"] = "On Break"
    switch.api_commands.clear()
    call(hoofdroute(document), Caller(agent_answers=True), OPEN, switch)
    assert queue_commands(switch) == LISTINGS
    assert created["status"] == "On Break"


def test_an_agent_that_exists_already_keeps_its_status_when_it_joins_a_queue():
    document = demo_document()
    switch = started_switch(document)
    switch.callcenter.agents[agent("242")]["status"] = "On Break"
    del switch.callcenter.tiers[(QUEUE, agent("242"))]

    call(hoofdroute(document), Caller(agent_answers=True), OPEN, switch)

    assert switch.callcenter.tiers[(QUEUE, agent("242"))]["position"] == "3"
    assert switch.callcenter.agents[agent("242")]["status"] == "On Break"
    assert not any("set status" in command for command in queue_commands(switch))


def test_a_reordered_queue_moves_the_tiers():
    document = demo_document()
    switch = started_switch(document)
    document.queues[0].agents = ["242", "240", "241"]

    call(hoofdroute(document), Caller(agent_answers=True), OPEN, switch)

    positions = {name: tier["position"] for (_, name), tier in switch.callcenter.tiers.items()}
    assert positions == {agent("242"): "1", agent("240"): "2", agent("241"): "3"}


def test_changed_queue_settings_unload_the_queue_and_leave_the_agents_alone():
    document = demo_document()
    switch = started_switch(document)
    switch.callcenter.agents[agent("241")]["status"] = "On Break"
    document.queues[0].strategy = "ring-all"
    switch.callcenter.configuration = callcenter_document([document])

    call(hoofdroute(document), Caller(agent_answers=True), OPEN, switch)

    assert f"callcenter_config queue unload {QUEUE}" in queue_commands(switch)
    assert switch.callcenter.agents[agent("241")]["status"] == "On Break"
    assert len(switch.callcenter.tiers) == 3


def test_a_cached_route_without_queue_members_leaves_the_switch_alone(demo_route):
    route = copy.deepcopy(demo_route)
    del route["queues"]["Wachtrij 1"]["agents"]  # a route cached before members were sent
    result = call(route, Caller(agent_answers=True), OPEN)
    assert queue_commands(result.freeswitch) == []
    assert result.application_names() == ["playback", "callcenter"]


# --- 3: the bridge outcome ------------------------------------------------------------------


def bridge_once(answering: set[str], hangup_after_bridge: bool) -> tuple[bool, Session]:
    session = Session(Caller(answering=answering))
    if hangup_after_bridge:
        session.setVariable("hangup_after_bridge", "true")
    adapter = SessionAdapter(session, FreeswitchModule(OPEN), lambda name: None)
    return adapter.bridge(f"[leg_timeout=20]user/240@{DOMAIN}", 20), session


@pytest.mark.parametrize("hangup_after_bridge", [True, False], ids=["hangup after", "caller stays"])
def test_an_answered_bridge_is_answered_whether_or_not_the_caller_stays(hangup_after_bridge):
    answered, session = bridge_once({f"user/240@{DOMAIN}"}, hangup_after_bridge)
    assert answered
    assert session.variables["originate_disposition"] == "call accepted"
    assert session.ready() is not hangup_after_bridge


def test_a_bridge_nobody_answers_is_not_answered():
    answered, session = bridge_once(set(), hangup_after_bridge=False)
    assert not answered
    assert session.variables["originate_disposition"] == "NO_ANSWER"


def test_an_answered_transfer_where_the_caller_stays_ends_the_flow(demo_route):
    """Marc answers and hangs up first; the caller is still there: no group, no voicemail."""
    route = with_flow(demo_route, {"id": "marc", "type": "DOORVERBINDEN", "target": "240"}, BOX)
    route["call_flows"]["Test"]["steps"]["marc"]["next"] = "box"
    session = Session(Caller(answering={f"user/240@{DOMAIN}"}))
    session.setVariable = _ignoring("hangup_after_bridge", session.setVariable)  # type: ignore[method-assign]
    adapter = SessionAdapter(session, FreeswitchModule(OPEN), lambda name: None)
    visited = walk(route, adapter)
    assert visited == ["call_flow:Test", "Test/marc"]
    assert [name for name, _ in session.applications] == ["bridge"]


def _ignoring(name: str, set_variable: Any) -> Any:
    """A setVariable that drops ``name``, as when a dialplan overrides hangup_after_bridge."""

    def wrapped(variable: str, value: str) -> None:
        if variable != name:
            set_variable(variable, value)

    return wrapped


# --- 4: fax mail through a real mailer ------------------------------------------------------

RECORDING_MAILER = """#!/bin/sh
# Records what it is given, like sendmail would receive it.
printf '%s\\n' "$@" > "{directory}/args"
cat > "{directory}/message"
"""


def test_a_fax_mail_names_its_recipient_and_sender_in_the_headers(tmp_path: Path):
    mailer = tmp_path / "sendmail"
    mailer.write_text(RECORDING_MAILER.format(directory=tmp_path))
    mailer.chmod(mailer.stat().st_mode | stat.S_IXUSR)
    module = FreeswitchModule(OPEN, mailer=(str(mailer), "-t"))
    tiff = tmp_path / "fax-call-1.tif"
    tiff.write_bytes(minimal_tiff())

    deliver_fax(module, str(tiff), "fax@demo.example.net", f"fax@{DOMAIN}", "0612345678")

    arguments = (tmp_path / "args").read_text().split()
    assert arguments[:3] == ["-f", f"fax@{DOMAIN}", "-t"]  # with -t the recipients come from To:
    message = email.message_from_bytes(
        (tmp_path / "message").read_bytes(), policy=email.policy.default
    )
    assert message["To"] == "fax@demo.example.net"
    assert message["From"] == f"fax@{DOMAIN}"
    assert message["Subject"] == "Fax van 0612345678"
    [pdf] = [part for part in message.iter_attachments()]
    assert pdf.get_content().startswith(b"%PDF-")


def test_a_caller_number_cannot_add_mail_headers(tmp_path: Path):
    module = FreeswitchModule(OPEN)
    tiff = tmp_path / "fax-call-1.tif"
    tiff.write_bytes(minimal_tiff())
    deliver_fax(module, str(tiff), "fax@demo.example.net", f"fax@{DOMAIN}", "06\nBcc: x@y.z")
    [mail] = module.mails
    assert "\nBcc:" not in mail["headers"]


# --- 8: OMLEIDING in every spelling ---------------------------------------------------------


@pytest.mark.parametrize(
    "destination, endpoint",
    [
        ("+32470123456", "sofia/gateway/provider/+32470123456"),
        ("external:+32470123456", "sofia/gateway/provider/+32470123456"),
        ("extension:241", f"user/241@{DOMAIN}"),
    ],
)
def test_omleiding_rings_for_its_ring_time_then_goes_on(demo_route, destination, endpoint):
    step = {
        "id": "divert",
        "type": "OMLEIDING",
        "destination": destination,
        "ring_time": 15,
        "next": "box",
    }
    result = call(with_flow(demo_route, step, BOX), Caller(), OPEN)
    assert result.applications == [
        ("bridge", f"{{ignore_early_media=true}}[leg_timeout=15]{endpoint}"),
        VOICEMAIL,
    ]
    assert result.session.variables["call_timeout"] == "15"
    diversion = f"<sip:5000@{DOMAIN}>;reason=unconditional"
    assert ("set", "sip_h_Diversion", diversion) in result.session.events
    assert "sip_h_Diversion" not in result.session.variables  # cleared after its bridge
    assert result.visited[-2:] == ["Test/divert", "Test/box"]


# --- 5 and 9: what the operator's guide tells them to configure ---------------------------

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "freeswitch.md"
# The binding params mod_xml_curl.c's do_config knows.
XML_CURL_PARAMS = frozenset(
    "gateway-url gateway-credentials auth-scheme disable-100-continue method timeout "
    "enable-cacert-check ssl-cert-path ssl-key-path ssl-key-password ssl-version ssl-cacert-file "
    "enable-ssl-verifyhost cookie-file use-dynamic-url enable-post-var bind-local "
    "response-max-bytes".split()
)


def guide_binding() -> dict[str, str]:
    block = GUIDE.read_text().split('<configuration name="xml_curl.conf"', 1)[1]
    text = '<configuration name="xml_curl.conf"' + block.split("</configuration>", 1)[0]
    root = etree.fromstring(text + "</configuration>")
    return {param.get("name"): param.get("value") for param in root.iterfind(".//param")}


def test_the_guide_binding_checks_the_certificate_and_its_host_name_over_https():
    binding = guide_binding()
    assert set(binding) <= XML_CURL_PARAMS, set(binding) - XML_CURL_PARAMS
    assert binding["gateway-url"].startswith("https://")
    assert binding["enable-cacert-check"] == "true"
    assert binding["enable-ssl-verifyhost"] == "true"


def test_the_guide_says_where_freeswitch_comes_from():
    guide = GUIDE.read_text()
    assert "Debian ships no FreeSWITCH packages" in guide
    assert "Personal Access Token" in guide
    assert "/usr/local/freeswitch/conf" in guide


# Loaded by the end-to-end lab for itself, not for provisioner (logs, fs_cli, the probe's
# loopback calls, and what the stock configuration loads besides).
LAB_ONLY_MODULES = frozenset(
    {
        "mod_logfile",
        "mod_event_socket",
        "mod_loopback",
        "mod_db",
        "mod_expr",
        "mod_native_file",
        "mod_tone_stream",
    }
)


def test_the_lab_loads_what_the_guide_tells_an_operator_to_load_and_the_build_builds_it():
    from tests.e2e.switch_config import MODULES

    guide_section = GUIDE.read_text().split("## 2. Modules to load", 1)[1].split("\n## ", 1)[0]
    guide = set(re.findall(r"`(mod_[a-z0-9_]+)`", guide_section))
    assert guide <= set(MODULES), guide - set(MODULES)
    assert set(MODULES) - guide <= LAB_ONLY_MODULES, set(MODULES) - guide - LAB_ONLY_MODULES
    build = (Path(__file__).resolve().parents[2] / "scripts" / "freeswitch-build").read_text()
    built = set(re.findall(r"/(mod_[a-z0-9_]+)[\n\"]", build))
    assert set(MODULES) <= built, set(MODULES) - built
