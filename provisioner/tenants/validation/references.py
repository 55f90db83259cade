"""References between a tenant's items: destinations, members, agents, sites, queues."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from provisioner.errors import FieldProblem
from provisioner.routing.dialstrings import queue_slug
from provisioner.tenants import numbers as phone_numbers
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.base import parse_destination


class Index:
    """The names a document defines, for reference checks."""

    def __init__(self, document: TenantDocument) -> None:
        self.extensions = {item.number for item in document.extensions}
        self.boxes = {item.number for item in document.voicemail_boxes}
        self.ring_groups = {item.number for item in document.ring_groups}
        self.queues = {item.name for item in document.queues}
        self.sounds = {item.name for item in document.sounds}
        self.time_conditions = {item.name for item in document.time_conditions}
        self.call_flows = {item.name for item in document.call_flows}
        self.sites = {item.name for item in document.sites}


def check_destination(document: TenantDocument, text: str, path: str) -> Iterator[FieldProblem]:
    index = Index(document)
    try:
        kind, value = parse_destination(text)
    except ValueError as exc:
        yield FieldProblem(path, str(exc))
        return
    known: dict[str, set[str]] = {
        "extension": index.extensions,
        "voicemail": index.boxes,
        "ring_group": index.ring_groups,
        "queue": index.queues,
        "call_flow": index.call_flows,
    }
    if kind in known and value not in known[kind]:
        yield FieldProblem(path, f"{kind.replace('_', ' ')} {value} does not exist")
    elif kind == "external":
        yield from check_external(document, value, path)


def check_external(document: TenantDocument, value: str, path: str) -> Iterator[FieldProblem]:
    try:
        phone_numbers.normalize_public(value, document.country)
    except ValueError as exc:
        yield FieldProblem(path, str(exc))


def check_references(document: TenantDocument) -> Iterator[FieldProblem]:
    index = Index(document)
    for position, extension in enumerate(document.extensions):
        if extension.voicemail and extension.number not in index.boxes:
            yield FieldProblem(
                f"extensions[{position}].voicemail",
                f"voicemail box {extension.number} does not exist; "
                "add it under voicemail_boxes or set voicemail: false",
            )
    for position, group in enumerate(document.ring_groups):
        if group.members != "all":
            yield from check_members(index.extensions, group.members, f"ring_groups[{position}]")
        if group.no_answer:
            yield from check_destination(
                document, group.no_answer, f"ring_groups[{position}].no_answer"
            )
    slugs: dict[str, str] = {}
    for position, queue in enumerate(document.queues):
        yield from check_queue_name(queue.name, f"queues[{position}].name", slugs)
        yield from check_members(index.extensions, queue.agents, f"queues[{position}]", "agents")
        if queue.music and queue.music not in index.sounds:
            yield FieldProblem(f"queues[{position}].music", f"sound {queue.music} does not exist")
    for position, number in enumerate(document.numbers):
        yield from check_destination(
            document, number.destination, f"numbers[{position}].destination"
        )
    for position, phone in enumerate(document.phones):
        yield from check_members(index.extensions, phone.lines, f"phones[{position}]", "lines")
        if phone.site and phone.site not in index.sites:
            yield FieldProblem(f"phones[{position}].site", f"site {phone.site} does not exist")


def check_queue_name(name: str, path: str, slugs: dict[str, str]) -> Iterator[FieldProblem]:
    """Two names must not become the same FreeSWITCH queue (``Wachtrij 1`` / ``wachtrij-1``)."""
    slug = queue_slug(name)
    if re.search(r"-[0-9]+s$", slug):
        yield FieldProblem(path, f"{name!r} ends like a queue's wait-time variant; rename it")
    if slug in slugs:
        yield FieldProblem(path, f"{name!r} becomes the same switch queue as {slugs[slug]}")
    slugs.setdefault(slug, path)


def check_members(
    extensions: set[str], members: Iterable[str], path: str, field: str = "members"
) -> Iterator[FieldProblem]:
    for position, member in enumerate(members):
        if member not in extensions:
            yield FieldProblem(f"{path}.{field}[{position}]", f"extension {member} does not exist")
