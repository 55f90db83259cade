"""MAC addresses: one normalised form, twelve lower-case hex digits, used everywhere."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s:\-.]")
_TWELVE_HEX = re.compile(r"[0-9a-f]{12}")


def normalize_mac(text: str) -> str:
    """Return ``text`` as twelve lower-case hex digits; raise ValueError if it is not a MAC.

    Accepts every common notation: ``00:15:65:AA:BB:CC``, ``00-15-65-aa-bb-cc``,
    ``0015.65aa.bbcc`` and ``001565AABBCC``.
    """
    compact = _SEPARATORS.sub("", text.strip().lower())
    if not _TWELVE_HEX.fullmatch(compact):
        raise ValueError(
            f"{text!r} is not a MAC address; write twelve hex digits, "
            "for example 00:15:65:aa:bb:cc or 001565AABBCC"
        )
    return compact


def is_mac(text: str) -> bool:
    """True when ``text`` is a MAC address in any common notation."""
    try:
        normalize_mac(text)
    except ValueError:
        return False
    return True


def colon_mac(mac: str) -> str:
    """``001565aabbcc`` -> ``00:15:65:aa:bb:cc``."""
    compact = normalize_mac(mac)
    return ":".join(compact[index : index + 2] for index in range(0, 12, 2))
