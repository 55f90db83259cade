"""Keeping mod_callcenter's agents and tiers of one queue in line with the tenant's queue.

Runs inside FreeSWITCH (standard library only) when a caller enters a queue. mod_callcenter
never removes an agent or a tier when callcenter.conf is read again (``queue reload`` only adds
and updates, and sets every agent's status back to the file's), so the handler compares what
the switch reports for the queue (``callcenter_config queue list tiers <queue>``) with the
members the server sent in the route, and sends only the differences:

* a tier whose agent left the queue: ``tier del``; the agent too (``agent del``) when it is in
  none of the tenant's queues any more;
* a member without a tier: ``agent add`` (only a new agent gets its contact, settings and the
  starting status; an agent that exists keeps the status the switch gave it), then ``tier add``;
* a member whose place in the queue changed: ``tier set position``.

The queue's own settings (strategy, maximum wait) are compared with ``callcenter_config queue
list``; when they differ the queue is unloaded (``queue unload``), and mod_callcenter loads it
afresh, settings only, when the caller enters it.

An unchanged queue costs two local listings and no change; no agent's status is ever reset.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from provisioner.routing import dialstrings

ApiCall = Callable[[str], str]
TIER_LEVEL = "1"


@dataclass(frozen=True, slots=True)
class QueueMembers:
    """Who should answer ``address``, in order, and every agent of the tenant's queues."""

    address: str
    agents: Sequence[str]
    tenant_agents: Collection[str]
    # Queue settings as ``queue list`` names them (``strategy``, ``max_wait_time``).
    settings: Mapping[str, str] = field(default_factory=dict)


def parse_listing(reply: str) -> list[dict[str, str]]:
    """mod_callcenter's list answer (a ``a|b|c`` header, rows, ``+OK``) as dictionaries."""
    lines = [line for line in reply.splitlines() if line.strip()]
    if not lines or lines[0].startswith(("+OK", "-ERR")):
        return []
    header = lines[0].split("|")
    rows = []
    for line in lines[1:]:
        if line.startswith(("+OK", "-ERR")):
            break
        values = line.split("|")
        if len(values) == len(header):
            rows.append(dict(zip(header, values, strict=True)))
    return rows


def synchronise(members: QueueMembers, api: ApiCall) -> list[str]:
    """Bring the switch's queue ``members.address`` in line; return the changes sent."""
    sent: list[str] = []

    def send(command: str) -> str:
        sent.append(command)
        return api(f"callcenter_config {command}")

    if members.settings:
        queues = parse_listing(api("callcenter_config queue list"))
        loaded = next((row for row in queues if row.get("name") == members.address), None)
        if loaded is not None and any(
            loaded.get(name) != value for name, value in members.settings.items()
        ):
            send(f"queue unload {members.address}")
    listing = parse_listing(api(f"callcenter_config queue list tiers {members.address}"))
    present = {row["agent"]: row for row in listing if row.get("agent")}

    for agent in present:
        if agent not in members.agents:
            send(f"tier del {members.address} {agent}")
            if agent not in members.tenant_agents:
                send(f"agent del {agent}")
    for position, agent in enumerate(members.agents, start=1):
        tier = present.get(agent)
        if tier is None:
            if send(f"agent add {agent} {dialstrings.AGENT_TYPE}").startswith("+OK"):
                create_agent(agent, send)
            send(f"tier add {members.address} {agent} {TIER_LEVEL} {position}")
        elif tier.get("position") != str(position):
            send(f"tier set position {members.address} {agent} {position}")
    return sent


def create_agent(agent: str, send: ApiCall) -> None:
    """A new agent's contact and settings, and the one time its status is set."""
    send(f"agent set contact {agent} {dialstrings.agent_contact(agent)}")
    for key, value in dialstrings.AGENT_SETTINGS.items():
        send(f"agent set {key} {agent} {value}")
    send(f"agent set status {agent} {dialstrings.AGENT_START_STATUS}")
