"""Time zones as phones describe them: offsets and a month/week/weekday/hour summer-time rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from provisioner.phones.model import TimeZoneRule

_REFERENCE_YEAR = 2026


@lru_cache(maxsize=64)
def time_zone_rule(name: str) -> TimeZoneRule:
    """The rule of the IANA zone ``name``, read from the zone data (Europe/Amsterdam: CET/CEST)."""
    zone = ZoneInfo(name)
    winter = _offset_minutes(zone, datetime(_REFERENCE_YEAR, 1, 15, 12, tzinfo=UTC))
    summer = _offset_minutes(zone, datetime(_REFERENCE_YEAR, 7, 15, 12, tzinfo=UTC))
    if winter == summer:
        return TimeZoneRule(name, winter, summer)
    standard, daylight = min(winter, summer), max(winter, summer)
    start = _transition(zone, standard, daylight)
    end = _transition(zone, daylight, standard)
    return TimeZoneRule(
        name,
        standard,
        daylight,
        *_describe(start, standard),
        *_describe(end, daylight),
    )


def _offset_minutes(zone: ZoneInfo, moment: datetime) -> int:
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _transition(zone: ZoneInfo, before: int, after: int) -> datetime:
    """The UTC hour in the reference year when the offset goes from ``before`` to ``after``."""
    moment = datetime(_REFERENCE_YEAR, 1, 1, tzinfo=UTC)
    for _ in range(366 * 24):
        following = moment + timedelta(hours=1)
        if _offset_minutes(zone, moment) == before and _offset_minutes(zone, following) == after:
            return following
        moment = following
    raise ValueError(f"no change from {before} to {after} minutes in {zone.key}")


def _describe(moment: datetime, offset_before: int) -> tuple[int, int, int, int]:
    """Month, week (5 = last), weekday and local hour (on the clock before the change)."""
    local = moment + timedelta(minutes=offset_before)
    day = local.date()
    week = (day.day - 1) // 7 + 1
    if (day + timedelta(days=7)).month != day.month:
        week = 5
    return day.month, week, day.weekday(), local.hour


def posix_time_zone(rule: TimeZoneRule) -> str:
    """The POSIX TZ string (``CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00`` for Amsterdam)."""
    zone = ZoneInfo(rule.name)
    winter = datetime(_REFERENCE_YEAR, 1, 15, 12, tzinfo=UTC).astimezone(zone).tzname() or "STD"
    summer = datetime(_REFERENCE_YEAR, 7, 15, 12, tzinfo=UTC).astimezone(zone).tzname() or "DST"
    text = f"{_abbreviation(winter)}{_posix_offset(rule.standard_offset_minutes)}"
    if not rule.has_summer_time:
        return text
    start = f"M{rule.start_month}.{rule.start_week}.{(rule.start_weekday + 1) % 7}"
    end = f"M{rule.end_month}.{rule.end_week}.{(rule.end_weekday + 1) % 7}"
    return (
        f"{text}{_abbreviation(summer)}{_posix_offset(rule.summer_offset_minutes)},"
        f"{start}/{rule.start_hour:02d}:00:00,{end}/{rule.end_hour:02d}:00:00"
    )


def _abbreviation(name: str) -> str:
    # POSIX wants letters, or <...> around names such as "+03".
    return name if name.isalpha() else f"<{name}>"


def _posix_offset(minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    sign = "-" if minutes > 0 else ""  # POSIX counts west of Greenwich as positive
    return f"{sign}{hours}" + (f":{rest:02d}" if rest else "")
