"""The configuration section for mod_callcenter: ``callcenter.conf`` with every tenant's queues.

A queue is published once with its own maximum wait, and once more for every WACHTRIJ step
that waits a different time (``<name>-<seconds>s@<domain>``): mod_callcenter knows the maximum
wait per queue only, and agents and tiers are shared, so a variant costs nothing.

mod_callcenter reads the agents and tiers of this file when it loads (after truncating both
tables) and whenever ``callcenter_config queue load|reload`` or ``agent reload`` is run; each
such read adds and updates, never removes, and sets every agent's status again. So the agents'
``status`` here is what an agent starts with when the module loads; changes to queue members
afterwards are made by the call-routing handler with ``tier add|del`` and ``agent add|del``
(``provisioner.routing.queue_members``), and no reload is needed or wanted.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from provisioner.routing import dialstrings
from provisioner.routing.documents import add, new_document, serialize
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.call_flows import QueueStep

CONFIGURATION_NAME = "callcenter.conf"
HOLD_MUSIC = "local_stream://moh"


def queue_variants(document: TenantDocument) -> dict[str, list[int | None]]:
    """Per queue name: None (its own maximum wait) plus every step's other maximum wait."""
    variants: dict[str, list[int | None]] = {queue.name: [None] for queue in document.queues}
    for flow in document.call_flows:
        for step in flow.steps:
            if isinstance(step, QueueStep) and step.max_wait and step.queue in variants:
                if step.max_wait not in variants[step.queue]:
                    variants[step.queue].append(step.max_wait)
    return variants


def callcenter_document(documents: Iterable[TenantDocument]) -> bytes:
    """``callcenter.conf``: queues, agents (one per extension that answers a queue), tiers."""
    root, section = new_document("configuration")
    configuration = add(
        section, "configuration", name=CONFIGURATION_NAME, description="provisioner queues"
    )
    settings = add(configuration, "settings")
    # Applied only when mod_callcenter loads: the tables then start from this file alone.
    for name in ("truncate-agents-on-load", "truncate-tiers-on-load"):
        add(settings, "param", name=name, value="true")
    queues, agents, tiers = (add(configuration, tag) for tag in ("queues", "agents", "tiers"))
    for document in documents:
        add_tenant(queues, agents, tiers, document)
    return serialize(root)


def add_tenant(
    queues: etree._Element, agents: etree._Element, tiers: etree._Element, document: TenantDocument
) -> None:
    """One tenant's queues, agents and tiers."""
    domain = document.sip_domain
    variants = queue_variants(document)
    agent_numbers: list[str] = []
    for queue in document.queues:
        for max_wait in variants[queue.name]:
            address = dialstrings.queue_address(queue.name, domain, max_wait)
            add_queue(queues, address, queue.strategy, max_wait or queue.max_wait)
            for position, agent in enumerate(queue.agents, start=1):
                add(
                    tiers,
                    "tier",
                    agent=dialstrings.agent_name(agent, domain),
                    queue=address,
                    level="1",
                    position=str(position),
                )
        agent_numbers += [agent for agent in queue.agents if agent not in agent_numbers]
    for number in agent_numbers:
        name = dialstrings.agent_name(number, domain)
        add(
            agents,
            "agent",
            name=name,
            type=dialstrings.AGENT_TYPE,
            contact=dialstrings.agent_contact(name),
            status=dialstrings.AGENT_START_STATUS,
            **dialstrings.AGENT_SETTINGS,
        )


def add_queue(queues: etree._Element, address: str, strategy: str, max_wait: int) -> None:
    """A ``queue`` with its strategy, hold music and maximum wait."""
    queue = add(queues, "queue", name=address)
    parameters = {
        "strategy": strategy,
        "moh-sound": HOLD_MUSIC,
        "time-base-score": "system",
        "max-wait-time": str(max_wait),
        "max-wait-time-with-no-agent": "0",
        "max-wait-time-with-no-agent-time-reached": "5",
        "tier-rules-apply": "false",
        "discard-abandoned-after": "60",
        "abandoned-resume-allowed": "false",
    }
    for name, value in parameters.items():
        add(queue, "param", name=name, value=value)
