"""Picking up a colleague's call: the BLF key each vendor's file programs, and group pickup."""

from __future__ import annotations

import pytest

from tests.e2e.agents import Agent, SipLab

DOMAIN = "demo.sip.example.net"


def dial(phone: Agent, number: str) -> str:
    """The URI a phone dials for ``number`` (its SIP domain, as the file sets it)."""
    return f"sip:{number}@{phone.provisioned.account.domain}"


@pytest.mark.parametrize(
    ("picker", "watched", "caller"),
    [("240", "241", "243"), ("241", "240", "242"), ("242", "243", "240")],
    ids=["yealink", "snom", "poly"],
)
def test_a_blf_key_picks_up_the_call_ringing_at_the_colleague_it_watches(
    phones: dict[str, Agent], sip_lab: SipLab, picker: str, watched: str, caller: str
) -> None:
    ringing_phone, picking_phone = phones[watched], phones[picker]
    key = picking_phone.provisioned.pickup_dial[watched]  # as the phone's own file programs it
    assert key == f"*8{watched}"
    call = phones[caller].call(dial(phones[caller], watched))
    sip_lab.wait_until(lambda: bool(ringing_phone.ringing), 15, f"{watched} to ring")

    pickup = picking_phone.call(dial(picking_phone, key))

    sip_lab.wait_until(lambda: pickup.answered and call.answered, 15, "the pickup to connect")
    sip_lab.wait_until(lambda: not ringing_phone.ringing, 10, f"{watched} to stop ringing")
    assert not any(ringing.answered for ringing in ringing_phone.incoming)


def test_a_blf_key_never_takes_over_an_answered_call(
    phones: dict[str, Agent], sip_lab: SipLab
) -> None:
    marc, sanne, fatima = phones["240"], phones["241"], phones["243"]
    sanne.answer_after = 0.0
    call = fatima.call(dial(fatima, "241"))
    sip_lab.wait_until(lambda: call.answered, 15, "Sanne to answer Fatima")
    sanne.answer_after = None

    pickup = marc.call(dial(marc, "*8241"))

    sip_lab.wait_until(lambda: pickup.ended, 15, "the pickup to be refused")
    assert not pickup.answered
    assert not call.ended
