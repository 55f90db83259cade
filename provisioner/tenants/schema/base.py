"""What every part of the tenant document shares: the base model (unknown fields are errors),
the constrained text types (names, numbers, clock times), and destinations (`kind:value`)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
StepId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ExtensionNumber = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{1,5}$")]
InternalNumber = Annotated[str, StringConstraints(pattern=r"^\*?[1-9][0-9]{1,7}$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
# Free-text lengths match the store's columns: longer text is a 422 naming the field, not a
# database error (PostgreSQL refuses it) or a silent difference between databases.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Digit = Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")]

LANGUAGES = ("nl", "en", "de", "fr")
DESTINATION_KINDS = (
    "extension",
    "voicemail",
    "ring_group",
    "queue",
    "call_flow",
    "external",
    "hangup",
)
# Printable ASCII without space, quotes and backslash (the quoting of phone file formats).
SIP_PASSWORD_PATTERN = re.compile(r"[!#-&(-\[\]-~]+")
_DESTINATION = re.compile(r"^(?P<kind>[a-z_]+)(:(?P<value>.+))?$")


def parse_destination(text: str) -> tuple[str, str]:
    """Split ``kind:value`` (``extension:240``, ``call_flow:Hoofdroute``, ``hangup``)."""
    match = _DESTINATION.fullmatch(text.strip())
    if not match or match["kind"] not in DESTINATION_KINDS:
        raise ValueError(
            f"{text!r} is not a destination; write one of "
            + ", ".join(f"{kind}:..." for kind in DESTINATION_KINDS[:-1])
            + " or hangup"
        )
    kind, value = match["kind"], (match["value"] or "").strip()
    if (kind == "hangup") != (value == ""):
        raise ValueError(f"{text!r}: hangup takes no value, every other destination needs one")
    return kind, value


def minutes(clock: str) -> int:
    """``"08:30"`` -> 510."""
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


class Document(BaseModel):
    """Base of every part of the document: unknown fields are errors, not silently dropped."""

    # YAML reads `number: 240` or `choices: {1: wachtrij}` as integers: take them as the text.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)
