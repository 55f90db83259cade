"""Routers reporting how applying their configuration went (``POST /z/<serial>/<secret>/done``):
the report on the router's timeline and in the audit log, polling that waits for it (or for
the grace period), refusals exactly like a fetch's, and the rendered scripts' own calls."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient

from provisioner.config import check_config, default_settings
from provisioner.errors import ConfigError
from provisioner.network.poller import Poller
from provisioner.network.routers.refusals import flush_refusals
from provisioner.network.routers.reports import Report, parse_report
from provisioner.store import get_store
from provisioner.store.models import utc_now
from tests.conftest import import_demo, make_app
from tests.http.conftest import environment_of, start_serve, stop_serve
from tests.network.routers.readers import read_routeros
from tests.network.routers.test_router_render import stand_in
from tests.network.routers.test_router_zerotouch import (
    ROUTER,
    SERIAL,
    audit_rows,
    bearer,
    change_router,
    comparable,
    fetch_secret,
)

GRACE = 600  # ZEROTOUCH_DONE_GRACE_SECONDS' default
OFFICE = {"REMOTE_ADDR": "198.51.100.7"}


def timeline(client: FlaskClient, app: Flask) -> list[tuple[str, str, str]]:
    answer = client.get(f"{ROUTER}/timeline", headers=bearer(app, "support")).get_json()
    return [(event["file"], event["answer"], event["detail"]) for event in answer["items"]]


def claimed(app: Flask, at: datetime) -> list[str]:
    """What a poller claims at ``at`` (the time the test says, not the clock's), after giving
    leases to devices without one, as a running poller does."""
    poller = Poller(app, client=cast(Any, object()), name="test-poller")  # claims never ask SNMP
    poller.add_leases()
    return [job.name for job in poller.claim(10, now=at)]


def fetched(app: Flask, client: FlaskClient) -> datetime:
    """The demo router fetches its configuration; the moment before it did."""
    before = utc_now()
    answer = client.get(f"/z/{SERIAL}/{fetch_secret(app)}/config.rsc", environ_base=OFFICE)
    assert answer.status_code == 200
    return before


def report(app: Flask, client: FlaskClient, body: bytes, secret: str | None = None) -> Any:
    return client.post(
        f"/z/{SERIAL}/{secret or fetch_secret(app)}/done", data=body, environ_base=OFFICE
    )


def test_a_router_is_not_polled_between_its_fetch_and_its_report(
    demo_app: Flask, client: FlaskClient
) -> None:
    start = fetched(demo_app, client)
    assert claimed(demo_app, start + timedelta(seconds=GRACE - 5)) == []  # applying
    answer = report(demo_app, client, b"outcome=ok")
    assert (answer.status_code, answer.data) == (200, b"recorded\n")
    assert claimed(demo_app, utc_now()) == ["kantoor-gw"]  # polled at once after its report
    assert timeline(client, demo_app) == [("done", "ok", ""), ("config.rsc", "full", "")]
    [audited] = audit_rows(demo_app, "report")
    assert (audited.actor, audited.changes) == (
        f"zerotouch:{SERIAL}", {"outcome": "ok", "reason": ""},
    )  # fmt: skip


@pytest.fixture
def any_store_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """The demo tenant on SQLite and on PostgreSQL (where pollers lock what they note)."""
    app = make_app(tmp_path, database_url)
    import_demo(app)
    yield app
    get_store(app).dispose()


def test_a_router_that_never_reports_is_polled_after_the_grace_period_and_says_so(
    any_store_app: Flask,
) -> None:
    demo_app, client = any_store_app, any_store_app.test_client()
    start = fetched(demo_app, client)
    assert claimed(demo_app, start + timedelta(seconds=GRACE - 5)) == []
    assert timeline(client, demo_app) == [("config.rsc", "full", "")]
    later = start + timedelta(seconds=GRACE + 5)
    assert claimed(demo_app, later) == ["kantoor-gw"]
    never = ("done", "never reported", "no report by the end of the grace period; polled from then")
    assert timeline(client, demo_app) == [never, ("config.rsc", "full", "")]
    claimed(demo_app, later + timedelta(seconds=GRACE))  # noted once, not at every claim
    assert timeline(client, demo_app) == [never, ("config.rsc", "full", "")]


def test_the_grace_period_is_a_setting(tmp_path: Path) -> None:
    app = make_app(tmp_path, ZEROTOUCH_DONE_GRACE_SECONDS=60)
    import_demo(app)
    client = app.test_client()
    start = fetched(app, client)
    assert claimed(app, start + timedelta(seconds=55)) == []
    assert claimed(app, start + timedelta(seconds=65)) == ["kantoor-gw"]
    with pytest.raises(ConfigError, match="ZEROTOUCH_DONE_GRACE_SECONDS"):
        check_config({**default_settings(str(tmp_path)), "ZEROTOUCH_DONE_GRACE_SECONDS": -1})


def test_a_failed_outcome_is_on_the_timeline_and_in_diagnose(
    demo_app: Flask, client: FlaskClient
) -> None:
    fetched(demo_app, client)
    runner = demo_app.test_cli_runner()
    applying = runner.invoke(args=["diagnose", "demo/kantoor-gw"])
    assert "configuration fetched, being applied: not polled before" in applying.output
    # Newlines and escape sequences in a reason are made one line of text.
    body = b"outcome=failed&reason=uci+batch+failed%0A%1B%5B31mline+3"
    assert report(demo_app, client, body).status_code == 200
    assert timeline(client, demo_app)[0] == ("done", "failed", "uci batch failed [31mline 3")
    diagnosed = runner.invoke(args=["diagnose", "demo/kantoor-gw"])
    assert (
        "CONFIGURATION FAILED to apply (reported " in diagnosed.output
        and diagnosed.output.rstrip().count("uci batch failed [31mline 3") == 1
    ), diagnosed.output
    as_json = json.loads(runner.invoke(args=["diagnose", "demo/kantoor-gw", "--json"]).output)
    assert as_json["configuration"]["state"] == "failed"
    # A phone's diagnosis shows it under its site's router.
    phone = runner.invoke(args=["diagnose", "80:5e:c0:12:34:56"]).output
    router_block = phone.split("Site router:\n", 1)[1].split("Recent traps:")[0]
    assert "CONFIGURATION FAILED to apply (reported " in router_block, phone


def test_refused_posts_to_the_done_url_cannot_hide_the_routers_own_report(
    demo_app: Flask, client: FlaskClient
) -> None:
    fetched(demo_app, client)
    assert report(demo_app, client, b"outcome=failed&reason=uci+broke").status_code == 200
    runner = demo_app.test_cli_runner()
    before = runner.invoke(args=["diagnose", "demo/kantoor-gw"]).output
    assert "CONFIGURATION FAILED to apply" in before and "uci broke" in before, before
    # Anyone who knows the serial: a wrong secret, refused, as often as the limit allows.
    for _ in range(5):
        refused = report(demo_app, client, b"outcome=ok", secret="wrong-secret-wrong-secret")
        assert refused.status_code == 404
    flush_refusals(demo_app)  # on the timeline now, as the server writes them within seconds
    assert timeline(client, demo_app)[0][1] != "failed"  # the newest event is a refusal
    after = runner.invoke(args=["diagnose", "demo/kantoor-gw"]).output
    assert "CONFIGURATION FAILED to apply" in after and "uci broke" in after, after
    assert "never reported" not in after


def test_an_unknown_router_and_a_wrong_secret_get_the_same_answer(
    demo_app: Flask, client: FlaskClient
) -> None:
    secret = fetch_secret(demo_app)
    wrong_secret = report(demo_app, client, b"outcome=ok", secret="x" * len(secret))
    guessed = client.post(f"/z/HE7A1B2C3D5/{secret}/done", data=b"outcome=ok")
    guessed_bad_body = client.post(f"/z/HE7A1B2C3D5/{secret}/done", data=b"outcome=what")
    a_fetch = client.get(f"/z/HE7A1B2C3D5/{secret}/config.rsc")
    assert wrong_secret.status_code == 404
    assert (
        comparable(wrong_secret)
        == comparable(guessed)
        == comparable(guessed_bad_body)
        == comparable(a_fetch)
    )
    assert timeline(client, demo_app) == [("done", "denied", "")]
    assert audit_rows(demo_app, "report") == []


def test_reports_count_against_the_routers_miss_limit(tmp_path: Path) -> None:
    app = make_app(tmp_path, ZEROTOUCH_MISS_LIMIT=2)
    import_demo(app)
    client = app.test_client()
    for _ in range(2):
        assert report(app, client, b"outcome=ok", secret="x" * 20).status_code == 404
    assert report(app, client, b"outcome=ok").status_code == 404  # its own secret, too late
    assert [answer for _, answer, _ in timeline(client, app)] == ["throttled", "denied", "denied"]


BAD_REPORTS = {
    "no outcome": (b"reason=x", "outcome: required: ok or failed"),
    "unknown outcome": (b"outcome=done", "outcome: required: ok or failed"),
    "outcome twice": (b"outcome=ok&outcome=failed", "outcome: given twice"),
    "unknown field": (b"outcome=ok&colour=red", "colour: unknown field; send outcome and reason"),
    "long reason": (b"outcome=failed&reason=" + b"x" * 201, "reason: at most 200 characters"),
    "not text": (b"outcome=\xff", "body: not form data"),
    "too long": (b"outcome=ok&reason=" + b"x" * 1100, "body: longer than 1024 bytes"),
}


@pytest.mark.parametrize(("body", "problem"), BAD_REPORTS.values(), ids=list(BAD_REPORTS))
def test_a_report_that_cannot_be_read_is_refused_naming_the_field(
    demo_app: Flask, client: FlaskClient, body: bytes, problem: str
) -> None:
    fetched(demo_app, client)
    answer = report(demo_app, client, body)
    assert answer.status_code == 400
    assert answer.get_data(as_text=True).startswith(problem)
    [(file, kind, detail), *_] = timeline(client, demo_app)
    assert (file, kind) == ("done", "invalid") and detail.startswith(problem)
    assert claimed(demo_app, utc_now()) == []  # still waiting for a report it can read


def test_the_routeros_script_ends_by_reporting_and_its_bootstrap_reports_a_failed_import(
    demo_app: Flask, client: FlaskClient
) -> None:
    secret = fetch_secret(demo_app)
    script = client.get(f"/z/{SERIAL}/{secret}/config.rsc").get_data(as_text=True)
    *_, last = read_routeros(script)
    assert (last.path, last.verb) == ("/tool", "fetch")
    assert last.arguments["url"] == f"http://localhost/z/{SERIAL}/{secret}/done"
    assert (last.arguments["http-method"], last.arguments["output"]) == ("post", "none")
    assert parse_report(last.arguments["http-data"].encode()) == Report("ok")
    bootstrap = client.get(f"{ROUTER}/bootstrap", headers=bearer(demo_app, "admin")).get_json()
    on_error = re.search(r"on-error=\{(/tool fetch .*)\}$", bootstrap["bootstrap"], re.MULTILINE)
    assert on_error is not None
    [failed] = read_routeros(on_error[1])
    assert failed.arguments["url"] == last.arguments["url"]
    assert parse_report(failed.arguments["http-data"].encode()) == Report("failed", "import failed")


# --- Through `provisioner serve`, with the scripts as the routers run them ----------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Flask]]:
    """`provisioner serve` on loopback, over the demo store made here (one for the module:
    each test fetches, then looks for its report at the top of the timeline)."""
    folder = tmp_path_factory.mktemp("served")
    app = make_app(folder)
    import_demo(app)
    get_store(app).dispose()
    port, server = start_serve(environment_of(app, folder))
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        stop_serve(server)


def http(method: str, url: str, body: bytes | None = None, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def served_timeline(base: str, app: Flask, seconds: float = 15) -> list[tuple[str, str, str]]:
    """The newest two events once the newest is a report (the script reports in the
    background): the report and the fetch before it."""
    headers = bearer(app, "support")
    deadline = time.monotonic() + seconds
    while True:
        _, body = http("GET", f"{base}{ROUTER}/timeline", **headers)
        events = [(e["file"], e["answer"], e["detail"]) for e in json.loads(body)["items"]]
        if events[0][0] == "done" or time.monotonic() > deadline:
            return events[:2]
        time.sleep(0.05)


def run_openwrt_script(script: str, root: Path, batch: str) -> int:
    """Run the fetched script as OpenWrt's fetch service does, with stand-ins for uci (its
    batch doing ``batch``), logger, rmmod, sleep and the init scripts; wget is the real one,
    so the report reaches the server."""
    tools, init = root / "bin", root / "init.d"
    stand_in(tools, "uci", f'case "$1" in batch) cat >/dev/null; {batch};; esac')
    for name in ("logger", "rmmod", "sleep"):
        stand_in(tools, name, "exit 0")
    for name in ("network", "dnsmasq", "firewall", "snmpd"):
        stand_in(init, name, "exit 0")
    script = script.replace("/etc/init.d/", f"{init}/").replace("/tmp/", f"{root}/")
    ran = subprocess.run(
        ["sh", "-c", script], env={"PATH": f"{tools}:/usr/bin:/bin"}, timeout=30, check=False
    )
    return ran.returncode


OPENWRT_CASES = {
    "applied": (":", 0, ("done", "ok", "")),
    "batch failed": (
        'echo "uci: Invalid argument" >&2',
        1,
        ("done", "failed", "uci batch failed (logread -e provisioner)"),
    ),
}


@pytest.mark.skipif(shutil.which("wget") is None, reason="needs wget (scripts/apt-packages)")
@pytest.mark.parametrize(
    ("batch", "status", "event"), OPENWRT_CASES.values(), ids=list(OPENWRT_CASES)
)
def test_the_openwrt_script_reports_its_outcome_to_the_server(
    served: tuple[str, Flask], tmp_path: Path, batch: str, status: int, event: tuple[str, str, str]
) -> None:
    base, app = served
    change_router(app, vendor="openwrt")
    code, script = http("GET", f"{base}/z/{SERIAL}/{fetch_secret(app)}/uci-defaults.sh")
    assert code == 200
    assert run_openwrt_script(script.decode(), tmp_path / "router", batch) == status
    assert served_timeline(base, app) == [event, ("uci-defaults.sh", "full", "")]


def test_the_routeros_report_reaches_the_server(served: tuple[str, Flask]) -> None:
    base, app = served
    change_router(app, vendor="mikrotik")
    code, script = http("GET", f"{base}/z/{SERIAL}/{fetch_secret(app)}/config.rsc")
    assert code == 200
    *_, call = read_routeros(script.decode())
    # As /tool fetch sends it: the URL and data the script names, POST.
    code, _ = http("POST", call.arguments["url"], call.arguments["http-data"].encode())
    assert code == 200
    assert served_timeline(base, app) == [("done", "ok", ""), ("config.rsc", "full", "")]
