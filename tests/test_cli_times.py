"""Every time one workflow shows (pair, phones list, diagnose, token list, discovered list) has
one form: to the second, with its UTC offset and zone; the tenant's zone for what belongs to a
tenant (the demo's is Europe/Amsterdam), UTC otherwise."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask

from provisioner.network import report
from provisioner.phones.model import RequestInfo
from provisioner.phones.render import render_for_path
from provisioner.times import local_time

# Anything that looks like a time, however it is written (ISO with T, no seconds, no zone ...).
LOOSE = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:?\d\d|Z)?( [A-Z][A-Za-z]{1,4})?"
)
AMSTERDAM = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\+01:00 CET|\+02:00 CEST)")
UTC_FORM = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00 UTC")


def times_in(text: str) -> list[str]:
    """Every time-like piece of ``text``."""
    return [match.group(0) for match in LOOSE.finditer(text)]


def run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_one_workflow_shows_every_time_in_one_form(demo_app: Flask) -> None:
    paired = run(demo_app, "pair", "80:5E:C0:AA:00:01", "241", "--tenant", "demo")
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:aa:00:01"
    stranger = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:bb:00:09"
    with demo_app.app_context():
        for file, user_agent in (("805ec0aa0001.cfg", agent), ("805ec0bb0009.cfg", stranger)):
            render_for_path(demo_app, RequestInfo(file, "127.0.0.1", "http", user_agent))
    run(demo_app, "token", "create", "--role", "support", "--name", "helpdesk")
    tenant_outputs = {
        "pair": paired,
        "phones list": run(demo_app, "phones", "list", "demo"),
        "diagnose": run(demo_app, "diagnose", "805ec0aa0001"),
    }
    other_outputs = {
        "token list": run(demo_app, "token", "list"),
        "discovered list": run(demo_app, "discovered", "list"),
    }
    for name, output in tenant_outputs.items():
        shown = times_in(output)
        assert shown, f"{name} shows no time:\n{output}"
        assert all(AMSTERDAM.fullmatch(time) for time in shown), (name, shown)
    for name, output in other_outputs.items():
        shown = times_in(output)
        assert shown, f"{name} shows no time:\n{output}"
        assert all(UTC_FORM.fullmatch(time) for time in shown), (name, shown)


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (datetime(2026, 12, 3, 10, 2, 3), "Europe/Amsterdam", "2026-12-03 11:02:03+01:00 CET"),
        (
            datetime(2026, 7, 3, 10, 2, 3, tzinfo=UTC),
            "Europe/Amsterdam",
            "2026-07-03 12:02:03+02:00 CEST",
        ),
        (datetime(2026, 12, 3, 10, 2, 3, 999), None, "2026-12-03 10:02:03+00:00 UTC"),
        (datetime(2026, 12, 3, 10, 2, 3), "Not/AZone", "2026-12-03 10:02:03+00:00 UTC"),
        (datetime(2026, 12, 3, 10, 2, 3), "Asia/Dubai", "2026-12-03 14:02:03+04:00"),
    ],
    ids=["naive-is-utc", "summer", "no-tenant", "unknown-zone", "zone-without-abbreviation"],
)
def test_local_time_form(moment: datetime, zone: str | None, shown: str) -> None:
    assert local_time(moment, zone) == shown


def test_diagnose_text_shows_stored_times_in_the_reports_zone() -> None:
    """Times read back from SQLite are naive UTC; the text shows them in the tenant's zone."""
    tenant_report = {
        "timezone": "Europe/Amsterdam",
        "router": {
            "name": "gw",
            "status": "down",
            "down_since": "2026-01-15T09:30:00",
            "reason": "timeout",
        },
        "traps": [
            {
                "received_at": "2026-01-15T09:29:58+00:00",
                "name": "linkDown",
                "if_index": 3,
                "on_phone_port": True,
            }
        ],
    }
    assert report.router_lines(tenant_report) == [
        "gw is DOWN since 2026-01-15 10:30:00+01:00 CET: timeout"
    ]
    assert report.trap_lines(tenant_report) == [
        "2026-01-15 10:29:58+01:00 CET linkDown ifIndex 3 (the phone's port)"
    ]
    assert report.when({"timezone": "UTC"}, "2026-01-15T09:30:00") == (
        "2026-01-15 09:30:00+00:00 UTC"
    )
