"""Voicemail on a real switch: a message left is mailed with its audio and lights the lamp."""

from __future__ import annotations

import pytest

from tests.e2e.agents import Agent, SipLab
from tests.e2e.conftest import plug_in
from tests.e2e.mail import MailSink
from tests.e2e.switch import FreeSwitch

DOMAIN = "demo.sip.example.net"


def dial(phone: Agent, number: str) -> str:
    """The URI a phone dials for ``number``."""
    return f"sip:{number}@{phone.provisioned.account.domain}"


@pytest.mark.usefixtures("marc_away")
def test_a_message_for_an_absent_colleague_is_mailed_and_lights_mwi(
    phones: dict[str, Agent], switch: FreeSwitch, sip_lab: SipLab, mail: MailSink
) -> None:
    sanne, marc = phones["241"], phones["240"]
    before = len(mail.received())
    switch.mark_log()
    call = sanne.call(dial(sanne, "240"))
    sip_lab.wait_until(lambda: call.answered, 15, "Marc's voicemail to answer")
    sip_lab.wait_until(
        lambda: "vm-record_message" in switch.new_log(), 20, "the recording to start"
    )
    sip_lab.settle(3)  # a message of a few seconds
    call.hang_up()
    sip_lab.wait_until(lambda: len(mail.received()) > before, 30, "the voicemail mail")
    message = mail.received()[-1]
    assert "marc@demo.example.net" in message["X-Envelope-To"]
    assert message["X-Voicemail-Box"] == f"240@{DOMAIN}"
    assert message["X-Voicemail-Caller"] == "241"
    plug_in(marc, sip_lab)
    sip_lab.wait_until(
        lambda: any("Messages-Waiting: yes" in body for body in marc.message_summaries),
        30,
        "Marc's phone to be told a message waits (MWI)",
    )
