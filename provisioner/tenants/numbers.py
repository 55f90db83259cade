"""Telephone numbers: internal forms, public E.164, and the emergency numbers no flow may take."""

from __future__ import annotations

import functools
import re

import phonenumbers

EXTENSION_PATTERN = re.compile(r"[1-9][0-9]{1,5}")
INTERNAL_PATTERN = re.compile(r"\*?[0-9]{2,8}")

# Numbers that must always reach the emergency services. Every internal or public number a
# tenant defines is checked against them: equal, or a prefix of one (a phone's digit map would
# dial "11" before the caller can finish "112"), or starting with one (a phone would wait for
# more digits after "112"), is refused.
EMERGENCY_NUMBERS_EVERYWHERE = ("112", "911")
EMERGENCY_NUMBERS_BY_COUNTRY: dict[str, tuple[str, ...]] = {
    "NL": ("144", "09008844"),
    "BE": ("100", "101", "1733"),
    "DE": ("110", "116117"),
    "GB": ("999",),
}

# Codes the switch answers itself, before any tenant number (provisioner/routing/dialplan.py:
# *8 group pickup, *97 own voicemail, *98 any voicemail): a number on one is never reached.
STAR_CODES = ("*8", "*97", "*98")
# Directed pickup: this code + an extension takes the call ringing at that extension (the
# code every vendor's BLF key dials); a number equal to it is never reached.
DIRECTED_PICKUP_PREFIX = "*8"


def emergency_numbers(country: str) -> tuple[str, ...]:
    """The emergency numbers that apply to a tenant in ``country`` (ISO 3166 alpha-2)."""
    listed = EMERGENCY_NUMBERS_EVERYWHERE + EMERGENCY_NUMBERS_BY_COUNTRY.get(country.upper(), ())
    extra = [number for number in _short_emergency_numbers(country.upper()) if number not in listed]
    return listed + tuple(extra)


@functools.cache
def _short_emergency_numbers(country: str) -> tuple[str, ...]:
    """The country's emergency numbers of 2-4 digits from libphonenumber's short-number data.

    Our own list covers a few countries; this one covers every country a tenant may name
    (France's 15, 17 and 18, Italy's 113, ...).
    """
    metadata = phonenumbers.PhoneMetadata.short_metadata_for_region(country)
    pattern_text = (
        metadata.emergency.national_number_pattern if metadata and metadata.emergency else None
    )
    if not pattern_text:
        return ()
    pattern = re.compile(pattern_text)
    candidates = (f"{value:0{length}d}" for length in (2, 3, 4) for value in range(10**length))
    return tuple(candidate for candidate in candidates if pattern.fullmatch(candidate))


def is_country(code: str) -> bool:
    """True for an ISO 3166 alpha-2 code that has a telephone numbering plan (``NL``)."""
    return code.upper() in phonenumbers.SUPPORTED_REGIONS


def emergency_clash(number: str, country: str) -> str | None:
    """The emergency number ``number`` would capture or delay, or None when it is safe."""
    digits = number.lstrip("+*")
    if number.startswith("+"):
        return None if not _is_short_public(number) else digits
    for emergency in emergency_numbers(country):
        if digits == emergency or emergency.startswith(digits) or digits.startswith(emergency):
            return emergency
    return None


def _is_short_public(number: str) -> bool:
    # "+112" style numbers are not valid E.164 subscriber numbers; refused elsewhere.
    return len(number) <= 5


def is_internal(text: str) -> bool:
    """True for an internal number: 2-8 digits, optionally after a star (``5000``, ``*8500``)."""
    return bool(INTERNAL_PATTERN.fullmatch(text)) and not text.startswith("0")


def normalize_public(text: str, country: str) -> str:
    """Return the E.164 form of a public number; raise ValueError if it is not one.

    Accepts ``+31202103356``, ``0031202103356``, ``31202103356`` (the carrier's form) and,
    for the tenant's own country, the national ``020 210 3356``.
    """
    compact = re.sub(r"[\s\-().]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.isdigit() and not compact.startswith("0"):
        compact = "+" + compact
    try:
        parsed = phonenumbers.parse(compact, country.upper())
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{text!r} is not a telephone number ({exc})") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(
            f"{text!r} is not a valid public number; write it in E.164 form, "
            "for example +31202103356"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_number(text: str, country: str) -> str:
    """An internal number as it is, a public one in E.164; ValueError for anything else."""
    stripped = text.strip()
    if is_internal(stripped):
        return stripped
    return normalize_public(stripped, country)


def dialled_forms(e164: str) -> tuple[str, ...]:
    """The forms a carrier may deliver a public number in: +31..., 31..., 0... (national)."""
    parsed = phonenumbers.parse(e164, None)
    national_text = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    national = re.sub(r"[^0-9]", "", national_text)
    forms = [e164, e164.lstrip("+"), "00" + e164.lstrip("+")]
    if national and national not in forms:
        forms.append(national)
    return tuple(forms)
