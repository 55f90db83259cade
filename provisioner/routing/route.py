"""The route for one dialled number: the JSON ``provisioner.callrouting`` fetches and walks.

Built on the server from the tenant document; it carries what the engine needs and no
secrets: the destination of the number, the tenant's flows with their steps by id, time
conditions, ring groups with their members spelt out, queues, voicemail boxes and sounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from provisioner.tenants.numbers import emergency_numbers
from provisioner.tenants.schema import TenantDocument

ROUTE_VERSION = 1
SOUND_EXTENSIONS = {
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
}


@dataclass(frozen=True, slots=True)
class StoredSound:
    """What the store knows of an uploaded sound: its digest and content type."""

    sha256: str
    content_type: str


def number_destination(document: TenantDocument, number: str) -> str | None:
    """Where ``number`` leads in this tenant: a numbers entry, ring group, queue or extension."""
    for entry in document.numbers:
        if entry.number == number:
            return entry.destination
    for group in document.ring_groups:
        if group.number == number:
            return f"ring_group:{group.number}"
    for queue in document.queues:
        if queue.number == number:
            return f"queue:{queue.name}"
    for extension in document.extensions:
        if extension.number == number:
            return f"extension:{extension.number}"
    return None


def default_voicemail(document: TenantDocument) -> str | None:
    """The box a call falls back to: the first shared box, else the first box."""
    personal = {extension.number for extension in document.extensions}
    shared = [box.number for box in document.voicemail_boxes if box.number not in personal]
    boxes = shared or [box.number for box in document.voicemail_boxes]
    return boxes[0] if boxes else None


def build_route(
    document: TenantDocument,
    number: str,
    gateway: str,
    sounds: Mapping[str, StoredSound],
) -> dict[str, Any] | None:
    """The route for ``number`` in ``document``; None when the tenant has no such number."""
    destination = number_destination(document, number)
    if number in emergency_numbers(document.country):
        destination = f"external:{number}"  # straight out, whatever the tenant's data says
    if destination is None:
        return None
    all_extensions = [extension.number for extension in document.extensions]
    return {
        "version": ROUTE_VERSION,
        "tenant": document.name,
        "domain": document.sip_domain,
        "timezone": document.timezone,
        "country": document.country,
        "country_code": str(phonenumbers.country_code_for_region(document.country) or ""),
        "gateway": gateway,
        "number": number,
        "entry": destination,
        "fallback": document.fallback,
        "default_voicemail": default_voicemail(document),
        "emergency_numbers": list(emergency_numbers(document.country)),
        "main_number": next(
            (item.number for item in document.numbers if item.number.startswith("+")), None
        ),
        "extensions": {
            item.number: {"name": item.name, "voicemail": item.voicemail}
            for item in document.extensions
        },
        "voicemail_boxes": [box.number for box in document.voicemail_boxes],
        "ring_groups": {
            group.number: {
                "name": group.name,
                "strategy": group.strategy,
                "members": all_extensions if group.members == "all" else list(group.members),
                "ring_time": group.ring_time,
                "no_answer": group.no_answer,
            }
            for group in document.ring_groups
        },
        "queues": {
            queue.name: {
                "max_wait": queue.max_wait,
                "music": queue.music,
                "strategy": queue.strategy,
                "agents": list(queue.agents),
            }
            for queue in document.queues
        },
        "time_conditions": {
            condition.name: condition.model_dump(mode="json")
            for condition in document.time_conditions
        },
        "sounds": {
            name: {
                "sha256": stored.sha256,
                "extension": SOUND_EXTENSIONS.get(stored.content_type, "wav"),
            }
            for name, stored in sounds.items()
        },
        "call_flows": {
            flow.name: {
                "start": flow.start_step(),
                "steps": {step.id: step.model_dump(mode="json") for step in flow.steps},
            }
            for flow in document.call_flows
        },
    }
