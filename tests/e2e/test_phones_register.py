"""Phones register with the SIP account our server put in their files, and call each other."""

from __future__ import annotations

from tests.e2e.agents import Agent, SipLab
from tests.e2e.provisioned import LAB_PHONES

DOMAIN = "demo.sip.example.net"


def test_every_phone_registers_with_the_account_from_its_own_file(phones: dict[str, Agent]) -> None:
    for phone in LAB_PHONES:
        agent = phones[phone.extension]
        assert agent.registered, phone
        assert agent.provisioned.account.user == phone.extension
        assert agent.provisioned.account.domain == DOMAIN
        assert agent.provisioned.server == f"{DOMAIN}:5060"


def test_a_colleague_is_rung_and_answers(phones: dict[str, Agent], sip_lab: SipLab) -> None:
    marc, sanne = phones["240"], phones["241"]
    sanne.answer_after = 0.2
    call = marc.call(f"sip:241@{DOMAIN}")
    sip_lab.wait_until(lambda: call.answered, 15, "Sanne to answer Marc")
    assert "Marc" in sanne.incoming[-1].record.remote_uri
