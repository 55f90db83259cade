"""While provisioner cannot be reached: 112 from a phone still leaves, calls to the tenant
still route (from the switch's standby copy and the handler's cache), and once provisioner is
back every answer comes from it again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.agents import Agent, SipLab
from tests.e2e.conftest import Server
from tests.e2e.switch import FreeSwitch

SUNDAY_MORNING = "2026-12-06T10:00:00+01:00"  # closed: Gesloten, then box 8000
DOMAIN = "demo.sip.example.net"


def call_the_main_number(carrier: Agent, switch: FreeSwitch, sip_lab: SipLab) -> str:
    """A carrier call to the Hoofdroute that reaches box 8000; the switch's log of it."""
    switch.mark_log()
    call = carrier.call(f"sip:+31202103356@127.0.0.1:{switch.settings.ports.external}")
    sip_lab.wait_until(
        lambda: f"voicemail(default {DOMAIN} 8000)" in switch.new_log(), 30, "box 8000"
    )
    call.hang_up()
    sip_lab.wait_until(lambda: call.ended, 10, "the call to end")
    return switch.new_log()


@pytest.mark.timeout(300)
def test_while_provisioner_is_down_112_leaves_and_flows_route_from_the_cache(
    phones: dict[str, Agent],
    carrier: Agent,
    server: Server,
    switch: FreeSwitch,
    sip_lab: SipLab,
    clock: Callable[[str], None],
) -> None:
    clock(SUNDAY_MORNING)
    assert "from the cache" not in call_the_main_number(carrier, switch, sip_lab)
    pack = Path(switch.settings.folder, "cache", "standby", "pack.xml")
    sip_lab.wait_until(pack.exists, 30, "the switch to keep a standby copy")

    switch.mark_log()
    server.stop()
    try:
        sip_lab.wait_until(
            lambda: "runs on the standby copy" in switch.new_log(), 30, "the switch to stand by"
        )
        sanne = phones["241"]
        emergency = sanne.call(f"sip:112@{DOMAIN}")
        sip_lab.wait_until(lambda: bool(carrier.ringing), 20, "112 to reach the carrier")
        assert carrier.ringing[-1].record.request_uri.startswith("INVITE sip:112@")
        emergency.hang_up()
        sip_lab.wait_until(lambda: emergency.ended, 10, "the 112 call to end")

        assert "routing +31202103356 from the cache" in call_the_main_number(
            carrier, switch, sip_lab
        )
    finally:
        switch.mark_log()
        server.start_again()
    sip_lab.wait_until(
        lambda: "provisioner answers again" in switch.new_log(), 30, "the switch to leave standby"
    )
    assert "from the cache" not in call_the_main_number(carrier, switch, sip_lab)
