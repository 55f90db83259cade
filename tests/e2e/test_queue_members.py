"""A queue member taken out through the API is rung by no later caller, on every variant of
the queue (a WACHTRIJ step with a wait of its own is a queue of its own in mod_callcenter)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.agents import Agent, Call, SipLab
from tests.e2e.conftest import Server
from tests.e2e.switch import FreeSwitch

DOMAIN = "demo.sip.example.net"
MAIN = (f"wachtrij-1@{DOMAIN}", "+31202103356")
SHORT = (f"wachtrij-1-15s@{DOMAIN}", "+31202106005")
AGENTS = ("240", "241", "242")


def set_status(switch: FreeSwitch, extension: str, status: str) -> None:
    """An agent takes a break or comes back (as a supervisor would, on the switch)."""
    switch.api(f"callcenter_config agent set status {extension}@{DOMAIN} '{status}'", check=False)


def tiers(switch: FreeSwitch, queue: str) -> str:
    """The switch's own list of who answers ``queue``."""
    return switch.api(f"callcenter_config queue list tiers {queue}")


def set_queue_agents(server: Server, token: str, agents: list[str]) -> None:
    """PATCH the queue through the admin API, as the provider's back office does."""
    request = urllib.request.Request(
        f"{server.url}/api/v1/tenants/demo/queues/Wachtrij%201",
        data=json.dumps({"agents": agents}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        assert answer.status == 200


def enter_queue(carrier: Agent, switch: FreeSwitch, sip_lab: SipLab, variant: tuple[str, str]):
    """A caller from the carrier waits in ``variant`` (the switch has synchronised it)."""
    queue, number = variant
    switch.mark_log()
    call = carrier.call(f"sip:{number}@127.0.0.1:{switch.settings.ports.external}")
    sip_lab.wait_until(lambda: f"callcenter({queue})" in switch.new_log(), 30, f"{queue}")
    return call


def leave(call: Call, sip_lab: SipLab) -> None:
    """The caller hangs up and the call is over."""
    call.hang_up()
    sip_lab.wait_until(lambda: call.ended, 10, "the caller to leave")


@pytest.fixture
def admin_token(server: Server) -> str:
    """An admin API token, made with the command an operator uses."""
    return server.command(
        "token", "create", "--role", "admin", "--name", "lab-queues"
    ).stdout.strip()


@pytest.fixture
def agents_restored(server: Server, switch: FreeSwitch, admin_token: str) -> Iterator[None]:
    """The queue's members and the agents' statuses as they were, afterwards."""
    yield
    set_queue_agents(server, admin_token, list(AGENTS))
    for extension in AGENTS:
        set_status(switch, extension, "Available")


@pytest.mark.usefixtures("agents_restored")
def test_a_member_taken_out_rings_for_no_later_caller_on_any_variant(
    phones: dict[str, Agent],
    carrier: Agent,
    server: Server,
    switch: FreeSwitch,
    sip_lab: SipLab,
    admin_token: str,
    clock: Callable[[str], None],
) -> None:
    clock("2026-12-08T10:00:00+01:00")  # a Tuesday morning: the Hoofdroute's queue is open
    for extension in AGENTS:
        set_status(switch, extension, "On Break")
    for variant in (MAIN, SHORT):  # both variants loaded, each with all three members
        call = enter_queue(carrier, switch, sip_lab, variant)
        leave(call, sip_lab)
        assert f"242@{DOMAIN}" in tiers(switch, variant[0])

    set_queue_agents(server, admin_token, ["240", "241"])
    set_status(switch, "242", "Available")  # Pieter alone could take a call

    pieter = phones["242"]
    for variant in (SHORT, MAIN):
        call = enter_queue(carrier, switch, sip_lab, variant)
        sip_lab.settle(3)
        assert not pieter.incoming, f"Pieter was rung from {variant[0]}"
        assert f"242@{DOMAIN}" not in tiers(switch, variant[0])
        leave(call, sip_lab)
