"""The step types the Hoofdroute does not take, each on a real call from the carrier."""

from __future__ import annotations

import re
import time

from tests.e2e.agents import Agent, SipLab
from tests.e2e.switch import FreeSwitch

DOMAIN = "demo.sip.example.net"


def from_carrier(carrier: Agent, switch: FreeSwitch, number: str):
    """A call from the carrier's caller (0612345678) to one of the tenant's public numbers."""
    switch.mark_log()
    return carrier.call(f"sip:{number}@127.0.0.1:{switch.settings.ports.external}")


def header(invite: str, name: str) -> str | None:
    """One header of a received INVITE."""
    found = re.search(rf"^{name}:\s*(.*?)\r?$", invite, re.MULTILINE | re.IGNORECASE)
    return found.group(1) if found else None


def test_voorwaarde_matches_a_mobile_caller_and_prefix_shows_on_the_callees_phone(
    phones: dict[str, Agent], carrier: Agent, switch: FreeSwitch, sip_lab: SipLab
) -> None:
    sanne = phones["241"]
    call = from_carrier(carrier, switch, "+31202106001")
    sip_lab.wait_until(lambda: bool(sanne.ringing), 20, "Sanne to ring")
    shown = sanne.ringing[0].record.remote_uri
    assert shown.startswith('"Sales ')
    assert "0612345678" in shown
    sanne.ringing[0].answer()
    sip_lab.wait_until(lambda: call.answered, 10, "the caller to reach Sanne")


def test_omleiding_leaves_through_the_gateway_rings_for_its_ring_time_then_goes_on(
    phones: dict[str, Agent], carrier: Agent, switch: FreeSwitch, sip_lab: SipLab
) -> None:
    marc = phones["240"]
    call = from_carrier(carrier, switch, "+31202106002")
    sip_lab.wait_until(
        lambda: any("+31687654321" in ring.record.request_uri for ring in carrier.ringing),
        20,
        "the diverted call at the carrier",
    )
    diverted = next(ring for ring in carrier.ringing if "+31687654321" in ring.record.request_uri)
    started = time.monotonic()
    assert "0612345678" in diverted.record.remote_uri  # the caller's own number
    assert header(diverted.record.invite, "Diversion") == (
        f"<sip:+31202106002@{DOMAIN}>;reason=unconditional"
    )
    sip_lab.wait_until(lambda: diverted.ended, 20, "the diversion's ring time to run out")
    assert 4.0 <= time.monotonic() - started <= 10.0  # ring_time 6
    sip_lab.wait_until(lambda: bool(marc.ringing), 20, "the next step to ring Marc")
    assert header(marc.ringing[0].record.invite, "Diversion") is None
    assert not call.ended


def test_belgroep_in_a_flow_rings_the_group_and_the_first_to_answer_takes_the_call(
    phones: dict[str, Agent], switch: FreeSwitch, sip_lab: SipLab
) -> None:
    fatima = phones["243"]
    call = fatima.call(f"sip:6006@{DOMAIN}")
    members = [phones[extension] for extension in ("240", "241", "242")]
    sip_lab.wait_until(lambda: all(phone.ringing for phone in members), 20, "ALLEN to ring")
    members[2].ringing[0].answer()
    sip_lab.wait_until(lambda: call.answered, 10, "Fatima to reach Pieter")
    sip_lab.wait_until(
        lambda: not members[0].ringing and not members[1].ringing, 10, "the others to stop"
    )
