"""Summer time as each phone reads it, one case per kind of rule: the last Sunday of the month
(Europe), an nth Sunday (the United States, Australia), and a zone without summer time.

Fanvil (wazo-platform/wazo-provd-plugins 2321a3f3, wazo_fanvil/common/common.py and
templates/base-new.tpl): a week rule is ``DSTFixedType`` 2, "last week of the month" is week
-1 (not 5), the weekday counts from 0 = Sunday; a zone without summer time has
``EnableDST`` 0 and no rule.
"""

from __future__ import annotations

import pytest
from lxml import etree

from provisioner.phones.config import bootstrap_config
from provisioner.phones.vendors import by_name

BASE_URL = "http://prov.example.net/p/"


def fanvil_date(zone: str) -> dict[str, str]:
    config = bootstrap_config("fanvil", "X4U", BASE_URL, zone, "nl", "ntp.example")
    root = etree.fromstring(by_name("fanvil").render_device(config, "0c383e123456.cfg"))
    date = root.find("phone/date")
    assert date is not None
    return {child.tag: child.text or "" for child in date}


# zone -> the rule's fields: (type, start month/week/weekday/hour, end month/week/weekday/hour)
WEEK_RULES = {
    # CET/CEST: last Sunday of March 02:00 to last Sunday of October 03:00.
    "Europe/Amsterdam": ("2", ("3", "-1", "0", "2"), ("10", "-1", "0", "3")),
    # Second Sunday of March 02:00 to first Sunday of November 02:00.
    "America/New_York": ("2", ("3", "2", "0", "2"), ("11", "1", "0", "2")),
    # Southern summer: first Sunday of October 02:00 to first Sunday of April 03:00.
    "Australia/Sydney": ("2", ("10", "1", "0", "2"), ("4", "1", "0", "3")),
}


@pytest.mark.parametrize("zone", list(WEEK_RULES))
def test_fanvil_week_rule_carries_its_type_and_the_week_as_the_firmware_reads_it(
    zone: str,
) -> None:
    date = fanvil_date(zone)
    kind, start, end = WEEK_RULES[zone]
    assert date["EnableDST"] == "2"
    assert date["DSTFixedType"] == kind
    fields = ("Mon", "Week", "Wday", "Hour")
    assert tuple(date[f"DSTStart{field}"] for field in fields) == start
    assert tuple(date[f"DSTEnd{field}"] for field in fields) == end
    assert date["DSTMinOffset"] == "60"


def test_fanvil_never_writes_week_five() -> None:
    date = fanvil_date("Europe/Amsterdam")
    assert "5" not in (date["DSTStartWeek"], date["DSTEndWeek"])


def test_fanvil_zone_without_summer_time_has_no_rule() -> None:
    date = fanvil_date("Asia/Tokyo")
    assert date["EnableDST"] == "0"
    assert date["TimeZone"] == "36"  # +9 h in quarter hours
    assert not any(tag.startswith("DST") for tag in date)
