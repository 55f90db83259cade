"""Function keys: defaults from the tenant, and each model's capacity, checked at save time."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from provisioner.errors import FieldProblem, UnsupportedVendor
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.devices import FunctionKey, Phone

if TYPE_CHECKING:
    from provisioner.phones.vendors.base import PhoneModel

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
# The longest label a phone file gets (the schema's PhoneText); tenant names may be longer.
LABEL_LENGTH = 64


def phone_text(text: str) -> str:
    """A tenant's free text (a name) as a phone can show it: control characters become
    spaces, runs of spaces one, cut to LABEL_LENGTH."""
    return " ".join(_CONTROL.sub(" ", text).split())[:LABEL_LENGTH].rstrip()


def number_order(number: str) -> tuple[int, str]:
    """Numbers in counting order (240 before 1000), whatever their length."""
    return (len(number), number)


@dataclass(frozen=True, slots=True)
class PhoneBook:
    """A tenant's people and ring groups as phone files show them, indexed once per change
    of the tenant (a boot storm builds thousands of files from the same book)."""

    names: Mapping[str, str]  # extension number -> its name as a phone shows it
    colleagues: tuple[tuple[str, str], ...]  # (number, name) in number order
    ring_groups: tuple[tuple[str, str, frozenset[str] | None], ...]  # number, name, members


def phone_book(document: TenantDocument) -> PhoneBook:
    """The book of ``document``: names, colleagues by number, ring groups (None: everyone)."""
    names = {extension.number: phone_text(extension.name) for extension in document.extensions}
    groups = tuple(
        (
            group.number,
            phone_text(group.name),
            None if group.members == "all" else frozenset(group.members),
        )
        for group in document.ring_groups
    )
    ordered = tuple(sorted(names.items(), key=lambda item: number_order(item[0])))
    return PhoneBook(names, ordered, groups)


def default_keys(book: PhoneBook, phone: Phone, room: int | None = None) -> list[FunctionKey]:
    """The ring groups the phone's lines are in first (a speed dial each), then a BLF key per
    colleague by number, as many as ``room`` allows (None: the model is unknown, all of them).
    The colleagues that do not fit are in the phone's directory, not on keys."""
    own = set(phone.lines)
    keys = [
        FunctionKey(type="speed_dial", value=number, label=name)
        for number, name, members in book.ring_groups
        if members is None or own & members
    ]
    colleagues = ((number, name) for number, name in book.colleagues if number not in own)
    wanted = None if room is None else max(room - len(keys), 0)
    keys += [
        FunctionKey(type="blf", value=number, label=name)
        for number, name in itertools.islice(colleagues, wanted)
    ]
    return keys if room is None else keys[:room]


def key_room(model: PhoneModel | None, lines: int) -> int | None:
    """The keys a model has beside its lines' own (None for an unknown model)."""
    if model is None:
        return None
    return max(model.keys - lines, 0) if model.keys else 0


def find_model(vendor: str | None, model: str | None) -> PhoneModel | None:
    """The vendor's model called ``model``, or None when either is unknown."""
    from provisioner.phones.vendors import by_name

    if not vendor or not model:
        return None
    try:
        return by_name(vendor).model(model)
    except UnsupportedVendor:
        return None


def effective_keys(
    book: PhoneBook, phone: Phone, model: PhoneModel | None = None
) -> list[FunctionKey]:
    """The phone's own keys when it has them, else the tenant's defaults that fit ``model``
    (by default the phone's stored model)."""
    if phone.function_keys is not None:
        return list(phone.function_keys)
    model = model or find_model(phone.vendor, phone.model)
    return default_keys(book, phone, key_room(model, len(phone.lines)))


def check_phones(document: TenantDocument) -> Iterator[FieldProblem]:
    """Every phone's vendor and model exist, and its lines and keys fit the model."""
    from provisioner.phones.vendors import by_name

    for position, phone in enumerate(document.phones):
        path = f"phones[{position}]"
        if phone.vendor is None:
            continue
        try:
            vendor = by_name(phone.vendor)
        except UnsupportedVendor as exc:
            yield FieldProblem(f"{path}.vendor", str(exc))
            continue
        if phone.model is None:
            continue
        model = vendor.model(phone.model)
        if model is None:
            yield FieldProblem(
                f"{path}.model",
                f"{vendor.label} has no model {phone.model}; known: " + ", ".join(vendor.models),
            )
            continue
        yield from _check_capacity(document, phone, path, model)


def _check_capacity(
    document: TenantDocument, phone: Phone, path: str, model: PhoneModel
) -> Iterator[FieldProblem]:
    """Lines and explicit keys must fit the model (the defaults are cut to fit)."""
    lines, keys = model.lines, model.keys
    if len(phone.lines) > lines:
        yield FieldProblem(
            f"{path}.lines", f"{len(phone.lines)} lines, the {model.name} has {lines}"
        )
    if phone.function_keys is None:
        return  # the tenant's defaults are chosen to fit the model
    wanted = (len(phone.lines) if keys else 0) + len(phone.function_keys)
    if phone.function_keys and wanted > keys:
        yield FieldProblem(
            f"{path}.function_keys",
            f"{wanted} keys (lines plus function_keys) do not fit the {model.name}'s {keys}; "
            f"list at most {max(keys - len(phone.lines), 0)} keys",
        )
    for index, key in enumerate(phone.function_keys or []):
        if key.line > max(len(phone.lines), 1):
            yield FieldProblem(
                f"{path}.function_keys[{index}].line", f"line {key.line} is not on the phone"
            )
