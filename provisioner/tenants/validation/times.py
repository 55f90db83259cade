"""Time zones and time conditions: ranges, calendar dates, holiday names."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from provisioner.errors import FieldProblem
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.base import minutes
from provisioner.tenants.schema.numbers import HolidaySet


def check_timezone(name: str, path: str) -> Iterator[FieldProblem]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        yield FieldProblem(path, f"{name!r} is not a time zone; write e.g. Europe/Amsterdam")


def check_time_conditions(document: TenantDocument) -> Iterator[FieldProblem]:
    for position, condition in enumerate(document.time_conditions):
        path = f"time_conditions[{position}]"
        if condition.timezone:
            yield from check_timezone(condition.timezone, f"{path}.timezone")
        for rule_index, hours in enumerate(condition.weekly):
            yield from check_range(hours.start, hours.end, f"{path}.weekly[{rule_index}]")
        for field in ("closed", "open"):
            for rule_index, rule in enumerate(getattr(condition, field)):
                yield from check_date_rule(rule, f"{path}.{field}[{rule_index}]")
        if (
            condition.holidays
            and condition.holidays.country not in holidays.list_supported_countries()
        ):
            yield FieldProblem(
                f"{path}.holidays.country",
                f"no holiday calendar for {condition.holidays.country}",
            )
        elif condition.holidays:
            yield from check_holiday_names(condition.holidays, f"{path}.holidays")


def check_holiday_names(holiday_set: HolidaySet, path: str) -> Iterator[FieldProblem]:
    """A name kept open that the calendar does not use would be ignored: the office stays shut."""
    if not holiday_set.exclude:
        return
    known = holiday_names(holiday_set.country, holiday_set.include_optional)
    folded = {name.casefold() for name in known}
    for index, name in enumerate(holiday_set.exclude):
        if name.casefold() not in folded:
            yield FieldProblem(
                f"{path}.exclude[{index}]",
                f"{holiday_set.country} has no holiday {name!r}; write one of "
                + ", ".join(sorted(known)),
            )


@functools.lru_cache(maxsize=64)
def holiday_names(country: str, include_optional: bool) -> tuple[str, ...]:
    """The holiday names of ``country`` in the years around now, as the switch matches them
    (Dutch for NL; some holidays, like Bevrijdingsdag, are public only every few years)."""
    year = date.today().year
    categories = ("public", "optional") if include_optional else ("public",)
    years = range(year - 1, year + 6)
    try:
        calendar = holidays.country_holidays(
            country, years=years, language="nl" if country == "NL" else None, categories=categories
        )
    except NotImplementedError:
        calendar = holidays.country_holidays(country, years=years, categories=categories)
    return tuple(sorted({part for name in calendar.values() for part in name.split("; ")}))


def check_range(start: str | None, end: str | None, path: str) -> Iterator[FieldProblem]:
    if (start is None) != (end is None):
        yield FieldProblem(path, "give both start and end, or neither for the whole day")
    elif start is not None and end is not None and minutes(end) <= minutes(start):
        yield FieldProblem(f"{path}.end", f"ends at {end}, before it starts at {start}")


def check_date_rule(rule: Any, path: str) -> Iterator[FieldProblem]:
    parts = rule.date.split("-")
    year = int(parts[0]) if len(parts) == 3 else 2024  # a leap year accepts 02-29
    try:
        date(year, int(parts[-2]), int(parts[-1]))
    except ValueError:
        yield FieldProblem(f"{path}.date", f"{rule.date} is not a calendar date")
    yield from check_range(rule.start, rule.end, path)
