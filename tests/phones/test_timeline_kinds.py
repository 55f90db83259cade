"""The device timeline tells apart what happened to each request, over real HTTP: a Digest
challenge (normal), a wrong credential, a first-use conflict, a throttled request, and which
path (/p/ or /p/a/) it came by; shown in the tenant's time zone, to the second."""

from __future__ import annotations

import base64
import re

from flask import Flask

from provisioner.network.diagnose import diagnose
from provisioner.network.report import as_text
from provisioner.pairing import flush_timeline
from provisioner.pairing.timeline import timeline
from provisioner.store import get_store
from provisioner.tenants.repository import find_tenant
from tests.phones.conftest import pair
from tests.phones.http_client import fetch
from tests.phones.samples import SAMPLES
from tests.phones.test_boot import boot, credentials, device_name
from tests.phones.test_repairing import digest_fetch

SAMPLE = SAMPLES[0]


def events(app: Flask) -> list[dict[str, str]]:
    """The phone's timeline, oldest first (the queued events written first)."""
    flush_timeline(app)
    with get_store(app).reading() as session:
        return list(reversed(timeline(session, find_tenant(session, "demo").id, SAMPLE.mac)))


def test_each_kind_of_answer_is_on_the_timeline_with_its_path(
    phone_app: Flask, live_server: str
) -> None:
    # The wrong credentials are Basic, taken over plain HTTP only where the setting allows it.
    phone_app.config["ALLOW_BASIC_OVER_HTTP"] = True
    pair(phone_app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    authenticated = f"/p/a/{device_name(SAMPLE)}"
    wrong = base64.b64encode(f"{SAMPLE.mac}:not-the-password".encode()).decode()
    fetch(live_server, authenticated, SAMPLE.user_agent)  # 401: the first leg of Digest
    fetch(
        live_server, authenticated, SAMPLE.user_agent, headers={"Authorization": f"Basic {wrong}"}
    )
    boot(live_server, SAMPLE)  # the first use, from 127.0.0.1
    boot(live_server, SAMPLE, source="127.0.0.2")  # a second address inside the window
    digest_fetch(live_server, credentials(phone_app, SAMPLE.mac))
    for index in range(51):  # PHONE_MISS_LIMIT is 50 here: 127.0.0.3 is throttled after these
        fetch(live_server, f"/p/no-such-file-{index}.bin", source="127.0.0.3")
    status, _, _ = fetch(live_server, f"/p/{device_name(SAMPLE)}", SAMPLE.user_agent, "127.0.0.3")
    assert status == 429

    device_file = device_name(SAMPLE)
    seen = [
        (event["kind"], event["route"])
        for event in events(phone_app)
        if event["file"] == device_file
    ]
    assert seen == [
        ("challenge", "/p/a/"),
        ("wrong-credentials", "/p/a/"),
        ("full-first-use", "/p/"),
        ("first-use-conflict", "/p/"),
        ("full-credentials", "/p/a/"),  # its Digest challenge folded into it
        ("throttled", "/p/"),
    ]


def test_times_are_shown_in_the_tenants_zone_to_the_second(
    phone_app: Flask, live_server: str
) -> None:
    pair(phone_app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    boot(live_server, SAMPLE)
    newest = events(phone_app)[-1]
    form = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\+01:00 CET|\+02:00 CEST)"
    assert re.fullmatch(form, newest["local_time"])
    assert newest["meaning"].startswith("full file")


def test_diagnose_says_what_each_request_got(phone_app: Flask, live_server: str) -> None:
    pair(phone_app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    fetch(live_server, f"/p/a/{device_name(SAMPLE)}", SAMPLE.user_agent)
    boot(live_server, SAMPLE)
    flush_timeline(phone_app)
    with get_store(phone_app).reading() as session:
        text = as_text(diagnose(session, SAMPLE.mac))
    assert re.search(
        r"\d\d:\d\d:\d\d\+0[12]:00 (CET|CEST) .*/p/a/805ec0aa0001\.cfg "
        r".*Digest challenge \(normal",
        text,
    ), text
    assert "/p/805ec0aa0001.cfg" in text and "full file (first-use window)" in text, text
