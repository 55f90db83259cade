"""The nearest valid field name for an unknown one (``nmae`` -> ``name``), found by walking the
document's models along the error's location, so only names valid at that place are offered."""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel


def suggest_field(model: type[BaseModel], location: Sequence[int | str]) -> str | None:
    """The valid name nearest to the last part of ``location``, if one is near enough."""
    if not location or not isinstance(location[-1], str):
        return None
    names = _field_names(model, location[:-1])
    matches = difflib.get_close_matches(location[-1], names, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _field_names(model: type[BaseModel], location: Sequence[int | str]) -> list[str]:
    current: Any = model
    for part in location:
        current = _inside(_unwrap(current, part), part)
        if current is None:
            return []
    found = _unwrap(current, None)
    if isinstance(found, type) and issubclass(found, BaseModel):
        return list(found.model_fields)
    return []


def _inside(annotation: Any, part: int | str) -> Any:
    """The annotation one step further along ``part`` (a field, a list index, a union tag)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        if field is not None:
            return field.annotation
        return annotation if _has_tag(annotation, part) else None
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is list and isinstance(part, int):
        return arguments[0]
    if origin is dict:
        return arguments[1]
    return None


def _unwrap(annotation: Any, part: int | str | None) -> Any:
    """Annotated and optional types to what they hold; a union to the member ``part`` tags."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [member for member in get_args(annotation) if member is not type(None)]
            tagged = [member for member in members if _has_tag(_unwrap(member, None), part)]
            if len(members) > 1 and not tagged:
                return annotation
            annotation = (tagged or members)[0]
        else:
            return annotation


def _has_tag(annotation: Any, part: int | str | None) -> bool:
    """True for a model whose ``type`` field is the literal ``part`` (a step's type)."""
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return False
    field = annotation.model_fields.get("type")
    if field is None or get_origin(field.annotation) is not Literal:
        return False
    return part in get_args(field.annotation)
