"""VOORWAARDE: does a call meet a condition on the caller, the dialled number or a switch?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ANONYMOUS_CALLERS = frozenset({"", "anonymous", "unknown", "restricted", "private", "0"})

Json = Mapping[str, Any]


def comparable_number(number: str, country_code: str) -> str:
    """A caller number in one form for comparison: ``0201234567`` -> ``+31201234567``."""
    digits = "".join(character for character in number if character.isdigit() or character == "+")
    if digits.startswith("+"):
        return digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0"):
        return f"+{country_code}{digits[1:]}"
    if country_code and digits.startswith(country_code) and len(digits) > 9:
        return "+" + digits
    return digits


def caller_matches(step: Json, caller: str, route: Json) -> bool:
    """True when any of the condition's criteria holds for this call."""
    if step.get("switch") is True:
        return True
    if step.get("anonymous") and caller.casefold() in ANONYMOUS_CALLERS:
        return True
    country_code = str(route.get("country_code") or "")
    number = comparable_number(caller, country_code)
    if number and any(
        number == comparable_number(str(item), country_code)
        for item in step.get("caller_numbers", ())
    ):
        return True
    if number and any(
        number.startswith(comparable_number(str(prefix), country_code))
        for prefix in step.get("caller_prefixes", ())
    ):
        return True
    dialled = comparable_number(str(route.get("number", "")), country_code)
    return any(
        dialled == comparable_number(str(item), country_code)
        for item in step.get("dialled_numbers", ())
    )
