"""Function keys: defaults from the tenant, and each model's capacity, checked at save time."""

from __future__ import annotations

import re
from collections.abc import Iterator

from provisioner.errors import FieldProblem, UnsupportedVendor
from provisioner.tenants.schema import FunctionKey, Phone, TenantDocument

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
# The longest label a phone file gets (the schema's PhoneText); tenant names may be longer.
LABEL_LENGTH = 64


def phone_text(text: str) -> str:
    """A tenant's free text (a name) as a phone can show it: control characters become
    spaces, runs of spaces one, cut to LABEL_LENGTH."""
    return " ".join(_CONTROL.sub(" ", text).split())[:LABEL_LENGTH].rstrip()


def default_keys(document: TenantDocument, phone: Phone) -> list[FunctionKey]:
    """A BLF key per colleague (labelled with the name), then a speed dial per ring group."""
    own = set(phone.lines)
    keys = [
        FunctionKey(type="blf", value=extension.number, label=phone_text(extension.name))
        for extension in sorted(document.extensions, key=lambda item: item.number)
        if extension.number not in own
    ]
    keys += [
        FunctionKey(type="speed_dial", value=group.number, label=phone_text(group.name))
        for group in document.ring_groups
        if group.members == "all" or own & set(group.members)
    ]
    return keys


def effective_keys(document: TenantDocument, phone: Phone) -> list[FunctionKey]:
    """The phone's own keys when it has them, else the tenant's defaults."""
    if phone.function_keys is not None:
        return list(phone.function_keys)
    return default_keys(document, phone)


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
        yield from _check_capacity(document, phone, path, model.name, model.lines, model.keys)


def _check_capacity(
    document: TenantDocument, phone: Phone, path: str, model: str, lines: int, keys: int
) -> Iterator[FieldProblem]:
    if len(phone.lines) > lines:
        yield FieldProblem(f"{path}.lines", f"{len(phone.lines)} lines, the {model} has {lines}")
    if keys == 0 and not phone.function_keys:
        return  # no programmable keys (DECT handsets): the tenant's defaults do not apply
    wanted = (len(phone.lines) if keys else 0) + len(effective_keys(document, phone))
    if wanted > keys:
        origin = "function_keys" if phone.function_keys is not None else "the tenant's default keys"
        yield FieldProblem(
            f"{path}.function_keys",
            f"{wanted} keys (lines plus {origin}) do not fit the {model}'s {keys}; "
            "set function_keys to the keys you want",
        )
    for index, key in enumerate(phone.function_keys or []):
        if key.line > max(len(phone.lines), 1):
            yield FieldProblem(
                f"{path}.function_keys[{index}].line", f"line {key.line} is not on the phone"
            )
