"""Duplicates and numbers: forms, clashes inside a tenant, emergency numbers."""

from __future__ import annotations

from collections.abc import Iterator

from provisioner.errors import FieldProblem
from provisioner.tenants import numbers as phone_numbers
from provisioner.tenants.schema import COLLECTION_KEYS, TenantDocument


def check_duplicates(document: TenantDocument) -> Iterator[FieldProblem]:
    for collection, key in COLLECTION_KEYS.items():
        seen: set[str] = set()
        for index, item in enumerate(getattr(document, collection)):
            value = str(getattr(item, key))
            if value in seen:
                yield FieldProblem(
                    f"{collection}[{index}].{key}", f"{value} is listed twice in {collection}"
                )
            seen.add(value)


def dialled_numbers(document: TenantDocument) -> Iterator[tuple[str, str]]:
    """Every number a caller can dial in this tenant, with the path that defines it."""
    for index, extension in enumerate(document.extensions):
        yield extension.number, f"extensions[{index}].number"
    for index, group in enumerate(document.ring_groups):
        yield group.number, f"ring_groups[{index}].number"
    for index, queue in enumerate(document.queues):
        if queue.number:
            yield queue.number, f"queues[{index}].number"
    for index, number in enumerate(document.numbers):
        yield number.number, f"numbers[{index}].number"


def check_numbers(document: TenantDocument) -> Iterator[FieldProblem]:
    for index, entry in enumerate(document.numbers):
        try:
            normalized = phone_numbers.normalize_number(entry.number, document.country)
        except ValueError as exc:
            yield FieldProblem(f"numbers[{index}].number", str(exc))
            continue
        if normalized != entry.number:
            yield FieldProblem(
                f"numbers[{index}].number", f"write {entry.number!r} as {normalized!r}"
            )
    owners: dict[str, str] = {}
    pickup_codes = {
        phone_numbers.DIRECTED_PICKUP_PREFIX + extension.number: extension.number
        for extension in document.extensions
    }
    for number, path in dialled_numbers(document):
        emergency = phone_numbers.emergency_clash(number, document.country)
        if emergency:
            yield FieldProblem(
                path,
                f"{number} would capture or delay the emergency number {emergency}; "
                "emergency numbers are always routed straight out, choose another number",
            )
        if number in phone_numbers.STAR_CODES:
            yield FieldProblem(
                path, f"{number} is a star code the switch answers itself; choose another number"
            )
        if number in pickup_codes:
            yield FieldProblem(
                path,
                f"{number} is the code that picks up a call ringing at extension "
                f"{pickup_codes[number]} (BLF keys dial it); choose another number",
            )
        if number in owners:
            yield FieldProblem(path, f"{number} is already used by {owners[number]}")
        else:
            owners[number] = path
