"""Checks a tenant document as a whole: forms, references, clashes, emergency numbers, flow graphs.

Shared by the importer and the API. Every problem names its field by path, e.g.
``call_flows[0].steps[3].target: extension 241 does not exist``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from provisioner.errors import FieldProblem, ValidationFailed
from provisioner.phones.keys import check_phones
from provisioner.tenants import numbers as phone_numbers
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.call_flows import STEP_TYPES
from provisioner.tenants.validation.flows import check_flow, check_flow_jumps
from provisioner.tenants.validation.numbers import check_duplicates, check_numbers
from provisioner.tenants.validation.references import check_destination, check_references
from provisioner.tenants.validation.routers import check_routers
from provisioner.tenants.validation.suggest import suggest_field
from provisioner.tenants.validation.times import check_time_conditions, check_timezone

ModelT = TypeVar("ModelT", bound=BaseModel)


def path_of(location: Iterable[int | str]) -> str:
    """``("call_flows", 0, "steps", 3, "target")`` -> ``call_flows[0].steps[3].target``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in STEP_TYPES or part.startswith("function-"):
            continue  # pydantic names the union member it tried; the reader does not need it
        else:
            text += f".{part}" if text else part
    return text


def problems_from_pydantic(
    error: ValidationError, prefix: str = "", model: type[BaseModel] | None = None
) -> list[FieldProblem]:
    """Turn pydantic's errors into field problems with readable paths; an unknown field gets
    the nearest valid name of ``model`` at that place, if one is near."""
    found = []
    for detail in error.errors():
        path = path_of(detail["loc"])
        if prefix:
            path = f"{prefix}.{path}" if path and not path.startswith("[") else prefix + path
        reason = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            nearest = suggest_field(model, detail["loc"]) if model is not None else None
            reason = "unknown field" + (f"; did you mean {nearest}?" if nearest else "")
        found.append(FieldProblem(path, reason))
    return found


def parse_model(model: type[ModelT], data: Any, prefix: str = "") -> ModelT:
    """Validate ``data`` as ``model``; raise ValidationFailed naming every bad field."""
    if not isinstance(data, Mapping):
        raise ValidationFailed([FieldProblem(prefix, "expected a mapping of fields")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(problems_from_pydantic(exc, prefix, model)) from exc


def parse_document(data: Any) -> TenantDocument:
    """Validate structure and meaning of a tenant document; raise ValidationFailed if invalid."""
    document = parse_model(TenantDocument, data)
    check_document(document)
    return document


def check_document(document: TenantDocument) -> None:
    """Raise ValidationFailed with every semantic problem of ``document``."""
    problems = list(find_problems(document))
    if problems:
        raise ValidationFailed(problems)


def find_problems(document: TenantDocument) -> Iterator[FieldProblem]:
    """Every semantic problem of ``document``, in document order."""
    yield from check_settings(document)
    yield from check_duplicates(document)
    yield from check_numbers(document)
    yield from check_references(document)
    yield from check_time_conditions(document)
    for index, flow in enumerate(document.call_flows):
        yield from check_flow(document, flow, f"call_flows[{index}]")
    yield from check_flow_jumps(document)
    yield from check_phones(document)
    yield from check_routers(document)


def check_settings(document: TenantDocument) -> Iterator[FieldProblem]:
    yield from check_timezone(document.timezone, "timezone")
    if not phone_numbers.is_country(document.country):
        # The country decides which emergency numbers are kept free and routed straight out.
        yield FieldProblem("country", f"{document.country} is not a country code; write e.g. NL")
    if document.fallback:
        yield from check_destination(document, document.fallback, "fallback")
    for index, site in enumerate(document.sites):
        for network_index, network in enumerate(site.networks):
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                yield FieldProblem(
                    f"sites[{index}].networks[{network_index}]",
                    f"{network!r} is not a network; write it as 192.0.2.0/24",
                )
