"""Scenarios run through our ``SessionAdapter`` on a session, recording what our code saw.

Inside the real switch mod_python3 runs ``handler`` (``&python(tests.e2e.probe)`` on a
loopback call, the scenario and the output file in the channel variables ``probe_scenario``
and ``probe_output``: originate's inline application takes no spaces); the differential
tests run the same scenario functions on the stand-in session of
tests/routing/fake_freeswitch.py and compare the two records.
Standard library and the routing package only: this runs on Debian's python3 in the switch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from provisioner.routing.queue_members import parse_listing
from provisioner.routing.session_adapter import SessionAdapter

DOMAIN = "demo.sip.example.net"
# The loopback call that carries the probe speaks L16; PCMU is what the phones take.
RINGS_NOBODY = (
    f"{{ignore_early_media=true,absolute_codec_string=PCMU}}[leg_timeout=3]user/243@{DOMAIN}"
)
QUEUE = f"wachtrij-1@{DOMAIN}"  # a queue the switch has: it loads them from callcenter.conf
AGENT = f"243@{DOMAIN}"

Scenario = Callable[[SessionAdapter, Any], dict[str, Any]]


def bridge_unanswered(adapter: SessionAdapter, session: Any) -> dict[str, Any]:
    """A colleague who does not pick up within the leg's time."""
    adapter.set_variable("continue_on_fail", "true")
    answered = adapter.bridge(RINGS_NOBODY, 3)
    return {
        "answered": answered,
        "originate_disposition": session.getVariable("originate_disposition"),
        "bridge_hangup_cause": session.getVariable("bridge_hangup_cause"),
        "ready": adapter.ready(),
    }


def key_pressed(adapter: SessionAdapter, session: Any) -> dict[str, Any]:
    """The caller presses 7 while the menu waits."""
    return {"digit": adapter.read_digit("no such prompt", 5000), "ready": adapter.ready()}


def silence(adapter: SessionAdapter, session: Any) -> dict[str, Any]:
    """The caller presses nothing."""
    return {"digit": adapter.read_digit("no such prompt", 1500), "ready": adapter.ready()}


def queue_listing(adapter: SessionAdapter, session: Any) -> dict[str, Any]:
    """What our queue synchronisation reads back after adding an agent and a tier."""
    api = adapter.freeswitch.API()
    for command in (
        f"callcenter_config agent add {AGENT} callback",
        f"callcenter_config tier add {QUEUE} {AGENT} 1 1",
    ):
        api.executeString(command)
    tiers = parse_listing(str(api.executeString(f"callcenter_config queue list tiers {QUEUE}")))
    agents = parse_listing(str(api.executeString("callcenter_config agent list")))
    for command in (
        f"callcenter_config tier del {QUEUE} {AGENT}",
        f"callcenter_config agent del {AGENT}",
    ):
        api.executeString(command)
    agent = next(row for row in agents if row.get("name") == AGENT)
    tier = next(row for row in tiers if row.get("agent") == AGENT)
    return {
        "tier": {key: tier.get(key) for key in ("queue", "agent", "state", "level", "position")},
        "agent": {key: agent.get(key) for key in ("name", "type", "status", "state")},
    }


SCENARIOS: dict[str, Scenario] = {
    "bridge_unanswered": bridge_unanswered,
    "key_pressed": key_pressed,
    "silence": silence,
    "queue_listing": queue_listing,
}


def run(scenario: str, session: Any, freeswitch: Any) -> dict[str, Any]:
    """One scenario on ``session`` through our adapter."""
    adapter = SessionAdapter(session, freeswitch, lambda name: None, "/tmp")
    return SCENARIOS[scenario](adapter, session)


def handler(session: Any, args: str) -> None:
    """mod_python3's entry point; what to run comes in channel variables."""
    import freeswitch  # type: ignore[import-not-found]  # only inside FreeSWITCH

    scenario = str(session.getVariable("probe_scenario"))
    output = str(session.getVariable("probe_output"))
    try:
        result = run(scenario, session, freeswitch)
    except Exception as exc:  # noqa: BLE001 - the test reads the failure from the file
        result = {"error": f"{type(exc).__name__}: {exc}"}
    with open(output, "w") as file:
        json.dump(result, file)
