"""The demo's Hoofdroute on a real switch: a caller from the carrier on +31202103356."""

from __future__ import annotations

import hashlib

import pytest

from tests.e2e.agents import Agent, Call, SipLab
from tests.e2e.conftest import PROJECT
from tests.e2e.mail import MailSink
from tests.e2e.switch import FreeSwitch

PUBLIC_NUMBER = "+31202103356"
AGENTS = ("240", "241", "242")
TUESDAY_MORNING = "2026-12-08T10:00:00+01:00"
SUNDAY_MORNING = "2026-12-06T10:00:00+01:00"
CHRISTMAS_MORNING = "2026-12-25T10:00:00+01:00"  # a Friday, a Dutch public holiday
DOMAIN = "demo.sip.example.net"


def sound_digest(name: str) -> str:
    """The handler's cache names a sound by its digest."""
    return hashlib.sha256((PROJECT / "examples" / "sounds" / name).read_bytes()).hexdigest()


def call_public_number(carrier: Agent, switch: FreeSwitch) -> Call:
    """The carrier delivers a call for the public number to the switch's external profile."""
    switch.mark_log()
    return carrier.call(f"sip:{PUBLIC_NUMBER}@127.0.0.1:{switch.settings.ports.external}")


def agents_on_break(switch: FreeSwitch, on_break: bool) -> None:
    """Agents take a break (mod_callcenter offers them nothing) or come back."""
    status = "'On Break'" if on_break else "Available"
    for extension in AGENTS:
        switch.api(f"callcenter_config agent set status {extension}@{DOMAIN} {status}")


def test_inside_opening_hours_a_caller_hears_welkom_and_an_agent_answers(
    phones: dict[str, Agent], carrier: Agent, switch: FreeSwitch, sip_lab: SipLab, clock
) -> None:
    clock(TUESDAY_MORNING)
    for extension in AGENTS:
        phones[extension].answer_after = 0.3
    call = call_public_number(carrier, switch)

    sip_lab.wait_until(
        lambda: any(phone.incoming and phone.incoming[-1].answered for phone in phones.values()),
        30,
        "an agent to answer the queue call",
    )
    assert call.answered and not call.ended
    log = switch.new_log()
    assert (
        f"playback({switch.settings.folder}/cache/sounds/{sound_digest('Welkom.mp3')}.mp3)" in log
    )
    assert f"callcenter(wachtrij-1@{DOMAIN})" in log


def test_a_key_on_the_menu_transfers_to_marc_who_answers(
    phones: dict[str, Agent], carrier: Agent, switch: FreeSwitch, sip_lab: SipLab, clock
) -> None:
    clock(TUESDAY_MORNING)
    agents_on_break(switch, True)
    try:
        marc = phones["240"]
        marc.answer_after = 0.3
        call = call_public_number(carrier, switch)
        sip_lab.wait_until(lambda: "play_and_get_digits" in switch.new_log(), 30, "the menu")
        sip_lab.wait_until(lambda: call.record.media_active, 5, "the caller's audio")
        call.send_digits("2")
        sip_lab.wait_until(
            lambda: bool(marc.incoming) and marc.incoming[-1].answered, 30, "Marc to answer"
        )
    finally:
        agents_on_break(switch, False)
    log = switch.new_log()
    assert f"{sound_digest('Doorverbinden.mp3')}.mp3" in log
    assert not call.ended


@pytest.mark.parametrize("moment", [SUNDAY_MORNING, CHRISTMAS_MORNING], ids=["sunday", "christmas"])
def test_outside_opening_hours_the_closed_branch_plays_and_takes_a_message(
    carrier: Agent, switch: FreeSwitch, sip_lab: SipLab, mail: MailSink, clock, moment: str
) -> None:
    clock(moment)
    before = len(mail.received())
    call = call_public_number(carrier, switch)
    sip_lab.wait_until(lambda: "vm-record_message" in switch.new_log(), 30, "box 8000 to record")
    log = switch.new_log()
    assert f"voicemail(default {DOMAIN} 8000)" in log
    assert f"{sound_digest('Gesloten.mp3')}.mp3" in log
    assert sound_digest("Welkom.mp3") not in log
    sip_lab.settle(2.5)  # the caller speaks (silence) for a moment
    call.hang_up()
    sip_lab.wait_until(lambda: len(mail.received()) > before, 30, "the message to be mailed")
    message = mail.received()[-1]
    assert "info@demo.example.net" in message["X-Envelope-To"]
    assert message["X-Voicemail-Box"] == f"8000@{DOMAIN}"
    assert message["X-Voicemail-Caller"] == "0612345678"
