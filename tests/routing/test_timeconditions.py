"""Opening hours on the tenant's wall clock: weekly hours, Dutch holidays, closed and open days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from provisioner.routing.timeconditions import holiday_name, is_open
from tests.routing.conftest import amsterdam, demo_document

TIMEZONE = "Europe/Amsterdam"


def openingstijden() -> dict:
    return demo_document().time_conditions[0].model_dump(mode="json")


@pytest.mark.parametrize(
    "moment, expected",
    [
        (amsterdam(2026, 11, 25, 8, 29), False),
        (amsterdam(2026, 11, 25, 8, 30), True),
        (amsterdam(2026, 11, 25, 17, 29), True),
        (amsterdam(2026, 11, 25, 17, 30), False),
        (amsterdam(2026, 11, 28, 11, 0), False),  # Saturday
        (amsterdam(2026, 1, 1, 10, 0), False),  # Nieuwjaarsdag
        (amsterdam(2026, 4, 3, 10, 0), False),  # Goede vrijdag
        (amsterdam(2026, 4, 6, 10, 0), False),  # Tweede paasdag
        (amsterdam(2026, 4, 27, 10, 0), False),  # Koningsdag
        (amsterdam(2026, 5, 14, 10, 0), False),  # Hemelvaartsdag
        (amsterdam(2026, 5, 25, 10, 0), False),  # Tweede pinksterdag
        (amsterdam(2026, 5, 5, 10, 0), True),  # Bevrijdingsdag 2026: optional only
        (amsterdam(2026, 12, 24, 14, 59), True),
        (amsterdam(2026, 12, 24, 15, 0), False),
        (amsterdam(2026, 12, 25, 10, 0), False),
        (amsterdam(2027, 3, 29, 10, 0), False),  # Tweede paasdag 2027
        (amsterdam(2027, 3, 30, 10, 0), True),
    ],
    ids=lambda value: value.isoformat() if isinstance(value, datetime) else str(value),
)
def test_demo_opening_hours(moment, expected):
    assert is_open(openingstijden(), TIMEZONE, moment) is expected


def test_opening_hours_follow_the_wall_clock_across_daylight_saving():
    # 08:40 in Amsterdam is 07:40 UTC in winter but 06:40 UTC in summer.
    assert is_open(openingstijden(), TIMEZONE, datetime(2026, 3, 27, 7, 40, tzinfo=UTC))
    assert is_open(openingstijden(), TIMEZONE, datetime(2026, 3, 30, 6, 40, tzinfo=UTC))
    assert not is_open(openingstijden(), TIMEZONE, datetime(2026, 3, 30, 6, 20, tzinfo=UTC))
    # 17:20 UTC in October before the change is 19:20 in Amsterdam: closed.
    assert not is_open(openingstijden(), TIMEZONE, datetime(2026, 10, 23, 16, 20, tzinfo=UTC))
    assert is_open(openingstijden(), TIMEZONE, datetime(2026, 10, 26, 16, 20, tzinfo=UTC))


def test_the_condition_time_zone_wins_over_the_tenant_one():
    condition = openingstijden() | {"timezone": "Europe/London"}
    moment = datetime(2026, 11, 25, 8, 15, tzinfo=UTC)  # 09:15 Amsterdam, 08:15 London
    assert is_open(openingstijden(), TIMEZONE, moment)
    assert not is_open(condition, TIMEZONE, moment)


def test_dutch_names_and_excluded_holidays():
    holidays = {"country": "NL"}
    assert holiday_name(holidays, date(2026, 4, 27)) == "Koningsdag"
    assert holiday_name(holidays, date(2026, 4, 6)) == "Tweede paasdag"
    assert holiday_name(holidays | {"exclude": ["goede vrijdag"]}, date(2026, 4, 3)) is None
    assert holiday_name(holidays, date(2026, 5, 5)) is None
    assert holiday_name(holidays | {"include_optional": True}, date(2026, 5, 5)) == "Bevrijdingsdag"


def test_extra_closed_days_and_open_exceptions():
    condition = openingstijden() | {
        "closed": [{"date": "2026-06-12", "name": "Bedrijfsuitje"}],
        "open": [{"date": "12-26", "start": "10:00", "end": "12:00"}],
    }
    assert not is_open(condition, TIMEZONE, amsterdam(2026, 6, 12, 10, 0))
    assert is_open(condition, TIMEZONE, amsterdam(2027, 6, 11, 10, 0))  # only that year
    assert is_open(condition, TIMEZONE, amsterdam(2026, 12, 26, 11, 0))  # a Saturday, open anyway
    assert not is_open(condition, TIMEZONE, amsterdam(2026, 12, 26, 12, 0))


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="aware"):
        is_open(openingstijden(), TIMEZONE, datetime(2026, 11, 25, 10, 0))
