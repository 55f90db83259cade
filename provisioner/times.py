"""How the command line and serve's request log show a moment: one form everywhere.

``2026-12-03 11:02:03+01:00 CET``: to the second, with the UTC offset and the zone's
abbreviation, in the tenant's time zone when the moment belongs to a tenant, else in UTC
(``2026-12-03 10:02:03+00:00 UTC``). The offset makes each time exact on its own; the
abbreviation is what support reads aloud. The API keeps ISO 8601 with an offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def as_utc(moment: datetime) -> datetime:
    """``moment`` with its zone; a naive one (SQLite hands those back) is UTC, as every
    moment we store is."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def zone_of(timezone: str | None) -> tzinfo:
    """The IANA zone ``timezone``; UTC when there is none or it is unknown."""
    try:
        return ZoneInfo(timezone) if timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_time(moment: datetime, timezone: str | None) -> str:
    """``moment`` in ``timezone`` (the tenant's; UTC without one) in the one form above."""
    local = as_utc(moment).astimezone(zone_of(timezone))
    text = local.isoformat(sep=" ", timespec="seconds")
    name = local.tzname() or ""
    # Zones without an abbreviation name themselves by the offset again ("+04"): shown once.
    return text if name[:1] in ("+", "-", "") else f"{text} {name}"


def local_iso_time(text: str | None, timezone: str | None) -> str | None:
    """An ISO 8601 time (as reports and the API carry them) in the one form; None stays."""
    return local_time(datetime.fromisoformat(text), timezone) if text else None
