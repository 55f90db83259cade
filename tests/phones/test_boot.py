"""Boot sequences over real HTTP (a server on an ephemeral loopback port, a real client):
a paired phone gets its account, keys, time and language; an unpaired or unknown MAC gets the
same bytes without any secret; the authenticated path takes Digest and Basic."""

from __future__ import annotations

import base64
import urllib.request

import pytest
from flask import Flask
from sqlalchemy import select

from provisioner.pairing import flush_timeline, service
from provisioner.phones.render import tftp_render_function
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from tests.phones.conftest import add_unpaired_phone, all_secrets, pair, sip_password
from tests.phones.http_client import fetch
from tests.phones.readers import READERS, check_full
from tests.phones.samples import SAMPLE_IDS, SAMPLES, Sample


def boot(base_url: str, sample: Sample, source: str = "127.0.0.1") -> dict[str, bytes]:
    """Ask for every file of the boot sequence; return the per-device answers."""
    files: dict[str, bytes] = {}
    for name, expected, device in sample.boot:
        status, body, headers = fetch(base_url, f"/p/{name}", sample.user_agent, source)
        assert status == expected, f"{name}: {status}"
        if status == 200:
            assert body and headers["ETag"]
        if device:
            files["directory" if name.endswith("-directory.xml") else "device"] = body
    return files


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_paired_phone_boots_with_its_account(
    phone_app: Flask, live_server: str, sample: Sample
) -> None:
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    files = boot(live_server, sample)
    check_full(sample.vendor, READERS[sample.vendor](files), sip_password(phone_app))
    flush_timeline(phone_app)  # phones' releases are written in batches; a reader flushes
    with get_store(phone_app).reading() as session:
        events = session.scalars(
            select(models.AuditEvent).where(
                models.AuditEvent.action == "release-secret",
                models.AuditEvent.object_key == sample.mac,
            )
        ).all()
    assert len(events) == len([name for name, _, device in sample.boot if device])


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_unpaired_and_unknown_macs_get_the_same_bytes_and_no_secret(
    phone_app: Flask, live_server: str, sample: Sample
) -> None:
    unpaired = sample.for_mac(sample.mac[:6] + "bb0001")
    never_seen = sample.for_mac(sample.mac[:6] + "cc0001")
    add_unpaired_phone(phone_app, unpaired)
    pair(phone_app, sample.mac, sample.vendor, sample.model)  # a paired neighbour exists
    first, second = boot(live_server, unpaired), boot(live_server, never_seen)
    assert first == second
    secrets = all_secrets(phone_app)
    for body in first.values():
        assert not any(secret.encode() in body for secret in secrets)
        assert READERS[sample.vendor]({"device": body}).password is None


def credentials(app: Flask, mac: str) -> dict[str, str]:
    with get_store(app).transaction() as session:
        return service.reveal_credential(session, get_secret_box(app), "demo", mac, "test")


def device_name(sample: Sample) -> str:
    return next(name for name, _, device in sample.boot if device)


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_authenticated_path_takes_digest(
    phone_app: Flask, live_server: str, sample: Sample
) -> None:
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    boot(live_server, sample)  # the first use; from now on the phone proves itself
    login = credentials(phone_app, sample.mac)
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, live_server, login["username"], login["password"])
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
    request = urllib.request.Request(
        f"{live_server}/p/a/{device_name(sample)}", headers={"User-Agent": sample.user_agent}
    )
    with opener.open(request, timeout=10) as response:
        body = response.read()
    assert READERS[sample.vendor]({"device": body}).password == sip_password(phone_app)


def test_authenticated_path_takes_basic_and_refuses_alike(
    phone_app: Flask, live_server: str
) -> None:
    # Basic over plain HTTP is refused by default (test_basic_over_http); allowed here.
    phone_app.config["ALLOW_BASIC_OVER_HTTP"] = True
    sample = SAMPLES[0]
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    login = credentials(phone_app, sample.mac)

    def basic(username: str, password: str) -> dict[str, str]:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    path = f"/p/a/{device_name(sample)}"
    status, body, _ = fetch(live_server, path, sample.user_agent, headers=basic(**login))
    assert status == 200 and READERS["yealink"]({"device": body}).user == "240"
    wrong = fetch(live_server, path, sample.user_agent, headers=basic(login["username"], "nope"))
    other = sample.for_mac("805ec0dd0001")
    unknown = fetch(
        live_server,
        f"/p/a/{device_name(other)}",
        other.user_agent,
        headers=basic("805ec0dd0001", "nope"),
    )
    nothing = fetch(live_server, path, sample.user_agent)
    for status, body, headers in (wrong, unknown, nothing):
        assert status == 401 and body == b""
        assert [value.split(" ")[0] for value in headers.get_all("WWW-Authenticate")] == [
            "Digest",
            "Basic",
        ]


def test_window_is_bound_to_the_first_address(phone_app: Flask, live_server: str) -> None:
    sample = SAMPLES[0]
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    assert READERS["yealink"](boot(live_server, sample)).user == "240"
    stolen = boot(live_server, sample, source="127.0.0.2")
    assert READERS["yealink"](stolen).password is None
    with get_store(phone_app).reading() as session:
        alarm = session.scalar(
            select(models.AuditEvent).where(models.AuditEvent.action == "first-use-conflict")
        )
    assert alarm is not None and alarm.changes["source"] == "127.0.0.2"
    assert alarm.tenant == "demo"  # so the tenant's audit view (?tenant=demo) shows it


def test_window_closes(phone_app: Flask, live_server: str) -> None:
    sample = SAMPLES[0]
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    with get_store(phone_app).transaction() as session:
        credential = session.scalar(select(models.DeviceCredential))
        assert credential is not None
        from datetime import UTC, datetime, timedelta

        credential.window_until = datetime.now(UTC) - timedelta(seconds=1)
    assert READERS["yealink"](boot(live_server, sample)).password is None


def test_user_agent_mac_must_match_the_file(phone_app: Flask, live_server: str) -> None:
    sample = SAMPLES[0]
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    liar = Sample(
        sample.vendor,
        sample.model,
        sample.mac,
        sample.user_agent.replace("aa:00:01", "aa:00:02"),
        sample.boot,
    )
    assert READERS["yealink"](boot(live_server, liar)).password is None


def test_etag_saves_the_download(phone_app: Flask, live_server: str) -> None:
    status, body, headers = fetch(live_server, "/p/y000000000000.cfg")
    again = fetch(live_server, "/p/y000000000000.cfg", headers={"If-None-Match": headers["ETag"]})
    assert status == 200 and body and again[0] == 304 and again[1] == b""


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_tftp_render_function_serves_the_same_files(phone_app: Flask, sample: Sample) -> None:
    """The TFTP callback: no User-Agent, the file name alone; a paired phone in its window."""
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    render = tftp_render_function(phone_app)
    files: dict[str, bytes] = {}
    for name, expected, device in sample.boot:
        body = render("/" + name, "127.0.0.1")
        assert (body is not None) == (expected == 200), name
        if device and body is not None:
            files["directory" if name.endswith("-directory.xml") else "device"] = body
    check_full(sample.vendor, READERS[sample.vendor](files), sip_password(phone_app))
    assert render("/805ec0ffffff.cfg", "127.0.0.1") is not None  # bootstrap
    assert render("/no-such-file.bin", "127.0.0.1") is None


def test_a_paired_gigaset_base_opens_its_registration_window_from_the_served_file(
    phone_app: Flask, live_server: str
) -> None:
    """The served file carries the time it was built: the base's DECT registration opens then
    for 15 minutes (issue 23), so a handset registers with its PIN."""
    import time

    from lxml import etree

    sample = next(sample for sample in SAMPLES if sample.vendor == "gigaset")
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    before = int(time.time())
    body = boot(live_server, sample)["device"]
    window = etree.fromstring(body).find("nvm/oper[@name='update_dm']")
    assert window is not None
    start = int(window.find("param[@name='RegStart']").get("value"))
    assert before - 1 <= start <= int(time.time()) + 1
