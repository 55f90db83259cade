"""The ring group ALLEN, group pickup, and emergency numbers from any extension."""

from __future__ import annotations

import pytest

from tests.e2e.agents import Agent, SipLab
from tests.e2e.switch import FreeSwitch


def dial(phone: Agent, number: str) -> str:
    """The URI a phone dials for ``number``."""
    return f"sip:{number}@{phone.provisioned.account.domain}"


def test_allen_on_star_8500_rings_every_member(phones: dict[str, Agent], sip_lab: SipLab) -> None:
    fatima = phones["243"]
    call = fatima.call(dial(fatima, "*8500"))
    others = [phones[extension] for extension in ("240", "241", "242")]
    sip_lab.wait_until(lambda: all(phone.ringing for phone in others), 20, "every member to ring")
    others[1].ringing[0].answer()
    sip_lab.wait_until(lambda: call.answered, 10, "the caller to be connected")
    sip_lab.wait_until(
        lambda: not others[0].ringing and not others[2].ringing, 10, "the others to stop ringing"
    )


@pytest.mark.usefixtures("marc_away")
def test_star_8_picks_up_a_call_ringing_in_the_callers_group(
    phones: dict[str, Agent], sip_lab: SipLab
) -> None:
    fatima, sanne, pieter = phones["243"], phones["241"], phones["242"]
    call = fatima.call(dial(fatima, "*8500"))
    sip_lab.wait_until(lambda: bool(pieter.ringing and sanne.ringing), 20, "ALLEN to ring")

    pickup = pieter.call(dial(pieter, "*8"))

    sip_lab.wait_until(lambda: pickup.answered and call.answered, 15, "the group pickup")
    sip_lab.wait_until(lambda: not sanne.ringing, 10, "Sanne to stop ringing")
    assert not any(ringing.answered for ringing in pieter.incoming + sanne.incoming)


def test_112_from_an_extension_goes_straight_to_the_carrier_with_the_main_number(
    phones: dict[str, Agent], carrier: Agent, switch: FreeSwitch, sip_lab: SipLab
) -> None:
    sanne = phones["241"]
    switch.mark_log()
    call = sanne.call(dial(sanne, "112"))
    sip_lab.wait_until(lambda: bool(carrier.ringing), 15, "the carrier to get the 112 call")
    emergency = carrier.ringing[-1]
    assert emergency.record.request_uri.startswith("INVITE sip:112@")
    assert "+31202103356" in emergency.record.remote_uri
    emergency.answer()
    sip_lab.wait_until(lambda: call.answered, 10, "the 112 call to connect")
    assert "provisioner:" not in switch.new_log()  # no call flow anywhere near it


@pytest.mark.usefixtures("marc_away")
def test_groep_op_in_a_flow_picks_up_a_call_ringing_in_allen(
    phones: dict[str, Agent], sip_lab: SipLab
) -> None:
    fatima, sanne, pieter = phones["243"], phones["241"], phones["242"]
    call = fatima.call(dial(fatima, "*8500"))
    sip_lab.wait_until(lambda: bool(pieter.ringing and sanne.ringing), 20, "ALLEN to ring")

    pickup = pieter.call(dial(pieter, "6004"))  # a number whose flow is one GROEP OP step

    sip_lab.wait_until(lambda: pickup.answered and call.answered, 15, "GROEP OP to connect")
    sip_lab.wait_until(lambda: not sanne.ringing, 10, "Sanne to stop ringing")
