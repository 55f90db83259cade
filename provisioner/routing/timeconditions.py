"""Is a time condition open at a moment? Weekly hours, public holidays, closed and open days.

Works on the JSON form of ``tenants.schema.numbers.TimeCondition`` so FreeSWITCH's interpreter
can use it without pydantic. Local time comes from the condition's (else the tenant's) time
zone, so opening hours follow the wall clock across daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
END_OF_DAY = 24 * 60


def clock_minutes(clock: str) -> int:
    """``"08:30"`` -> 510; ``"24:00"`` -> 1440."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def local_time(moment: datetime, timezone: str) -> datetime:
    """``moment`` (aware) on the wall clock of ``timezone``."""
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime (with a time zone), not a naive one")
    return moment.astimezone(ZoneInfo(timezone))


def is_open(condition: Mapping[str, Any], tenant_timezone: str, moment: datetime) -> bool:
    """True when ``condition`` is open at ``moment``.

    Order: an open exception wins, then closed days, then public holidays, then weekly hours.
    """
    local = local_time(moment, condition.get("timezone") or tenant_timezone)
    if any(_date_rule_matches(rule, local) for rule in condition.get("open") or ()):
        return True
    if any(_date_rule_matches(rule, local) for rule in condition.get("closed") or ()):
        return False
    if condition.get("holidays") and holiday_name(condition["holidays"], local.date()):
        return False
    return any(_weekly_matches(hours, local) for hours in condition.get("weekly") or ())


def holiday_name(holiday_set: Mapping[str, Any], day: date) -> str | None:
    """The name of the public holiday on ``day`` (Dutch names for NL), unless excluded."""
    names = _holidays(
        str(holiday_set.get("country") or "NL"),
        day.year,
        bool(holiday_set.get("include_optional")),
    )
    name = names.get(day)
    if name is None:
        return None
    excluded = {text.casefold() for text in holiday_set.get("exclude") or ()}
    kept = [part for part in name.split("; ") if part.casefold() not in excluded]
    return "; ".join(kept) or None


@lru_cache(maxsize=64)
def _holidays(country: str, year: int, include_optional: bool) -> dict[date, str]:
    # Imported here: the package takes ~50 ms to import and most calls never need it.
    import holidays

    categories = ("public", "optional") if include_optional else ("public",)
    try:
        calendar = holidays.country_holidays(
            country, years=year, language="nl" if country == "NL" else None, categories=categories
        )
    except NotImplementedError:
        calendar = holidays.country_holidays(country, years=year, categories=categories)
    return dict(calendar.items())


def _date_rule_matches(rule: Mapping[str, Any], local: datetime) -> bool:
    parts = str(rule["date"]).split("-")
    if len(parts) == 3 and int(parts[0]) != local.year:
        return False
    if (int(parts[-2]), int(parts[-1])) != (local.month, local.day):
        return False
    return _within(rule.get("start"), rule.get("end"), local)


def _weekly_matches(hours: Mapping[str, Any], local: datetime) -> bool:
    if WEEKDAYS[local.weekday()] not in hours.get("days", ()):
        return False
    return _within(hours.get("start"), hours.get("end"), local)


def _within(start: str | None, end: str | None, local: datetime) -> bool:
    """Whole day when no times are given; the end minute itself is outside."""
    if start is None or end is None:
        return True
    minute = local.hour * 60 + local.minute
    return clock_minutes(start) <= minute < clock_minutes(end)
