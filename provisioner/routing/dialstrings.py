"""FreeSWITCH dial strings and names shared by the engine and the XML documents (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from provisioner.tenants import numbers

GOODBYE_SOUND = "voicemail/vm-goodbye.wav"
VOICEMAIL_PROFILE = "default"
AGENT_RING_TIME = 20
AGENT_TYPE = "callback"
# The status a queue agent starts with; from then on it belongs to the switch (max-no-answer
# puts an agent On Break, agents log out or take breaks) and is never set again.
AGENT_START_STATUS = "Available"
# mod_callcenter's agent settings, by their agents-table names (callcenter.conf writes them with
# ``-``, ``callcenter_config agent set`` with ``_``).
AGENT_SETTINGS = {
    "max_no_answer": "3",
    "wrap_up_time": "10",
    "reject_delay_time": "10",
    "busy_delay_time": "60",
    "no_answer_delay_time": "30",
}


# The hash realm (``<domain>-ringing``) where each ringing leg of an extension records the
# call that rings it (the directory's dial string writes it, directed pickup reads it).
RINGING_REALM_SUFFIX = "-ringing"
DIRECTED_PICKUP_PREFIX = numbers.DIRECTED_PICKUP_PREFIX


def ringing_call(extension: str, domain: str) -> str:
    """The expression that reads the call ringing ``extension`` now (its caller's uuid)."""
    return f"${{hash(select/{domain}{RINGING_REALM_SUFFIX}/{extension})}}"


def user_leg(extension: str, domain: str) -> str:
    """The endpoint of a registered extension (looked up with ``action=user_call``)."""
    return f"user/{extension}@{domain}"


def gateway_leg(number: str, gateway: str) -> str:
    """The endpoint of an outside number, sent through the provider's gateway."""
    return f"sofia/gateway/{gateway}/{number}"


def pickup_key(ring_group: str, domain: str) -> str:
    """The key a ring group's ringing calls can be picked up with (``pickup`` app)."""
    return f"{ring_group.lstrip('*')}@{domain}"


def dial_string(
    groups: Sequence[Sequence[str]], ring_time: int, ignore_early_media: bool = True
) -> str:
    """Legs rung together within a group (``,``), groups one after the other (``|``)."""
    leg = f"[leg_timeout={ring_time}]"
    text = "|".join(",".join(leg + endpoint for endpoint in group) for group in groups)
    return ("{ignore_early_media=true}" if ignore_early_media else "") + text


def queue_slug(queue_name: str) -> str:
    """A queue's name as mod_callcenter knows it: ``Wachtrij 1`` -> ``wachtrij-1``."""
    return re.sub(r"[^a-z0-9]+", "-", queue_name.casefold()).strip("-") or "queue"


def queue_address(queue_name: str, domain: str, max_wait: int | None = None) -> str:
    """The mod_callcenter queue name of a tenant's queue (a variant per step max wait)."""
    slug = queue_slug(queue_name)
    suffix = f"-{max_wait}s" if max_wait else ""
    return f"{slug}{suffix}@{domain}"


def agent_name(extension: str, domain: str) -> str:
    """The mod_callcenter agent of an extension that answers queues."""
    return f"{extension}@{domain}"


def agent_contact(agent: str) -> str:
    """What mod_callcenter rings for ``agent`` (``240@domain``)."""
    return f"[leg_timeout={AGENT_RING_TIME}]user/{agent}"
