"""Phones' timeline events and release audit rows are written in batches off the request
path: by the writer's thread within its interval, and at a clean exit, with nothing lost."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from provisioner.pairing import flush_timeline
from provisioner.store import get_store, models
from tests.conftest import PROJECT, import_demo, make_app
from tests.phones.conftest import deployed_phone
from tests.phones.http_client import digest_authorization

MAC = "805ec0aa0202"
AGENT = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:aa:02:02"


def releases(app: Flask) -> int:
    with get_store(app).reading() as session:
        query = select(func.count(models.AuditEvent.id)).where(
            models.AuditEvent.action == "release-secret", models.AuditEvent.object_key == MAC
        )
        return int(session.scalar(query) or 0)


def paired_headers(app: Flask) -> dict[str, str]:
    return {"Authorization": deployed_phone(app, MAC), "User-Agent": AGENT}


def test_release_rows_land_within_the_interval_without_a_reader(tmp_path: Path) -> None:
    app = make_app(tmp_path, ALLOW_BASIC_OVER_HTTP=True, PHONE_TIMELINE_FLUSH_SECONDS=0.2)
    import_demo(app)
    headers = paired_headers(app)
    before = releases(app)
    for _ in range(3):
        assert app.test_client().get(f"/p/a/{MAC}.cfg", headers=headers).status_code == 200
    deadline = time.monotonic() + 5
    while releases(app) < before + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert releases(app) == before + 3
    get_store(app).dispose()


EXITING = """
import sys
from tests.conftest import make_app
from pathlib import Path
app = make_app(
    Path(sys.argv[1]),
    SECRETS_KEY=sys.argv[5],
    ALLOW_BASIC_OVER_HTTP=True,
    PHONE_TIMELINE_FLUSH_SECONDS=3600,
)
headers = {"Authorization": sys.argv[2], "User-Agent": sys.argv[3]}
for _ in range(4):
    assert app.test_client().get(sys.argv[4], headers=headers).status_code == 200
"""


def test_a_clean_exit_writes_what_is_queued(tmp_path: Path) -> None:
    app = make_app(tmp_path, ALLOW_BASIC_OVER_HTTP=True)
    import_demo(app)
    headers = paired_headers(app)
    before = releases(app)
    # Another process whose writer would wait an hour: only its exit can write the rows.
    subprocess.run(
        [
            sys.executable,
            "-c",
            EXITING,
            str(tmp_path),
            headers["Authorization"],
            AGENT,
            f"/p/a/{MAC}.cfg",
            str(app.config["SECRETS_KEY"]),
        ],
        cwd=PROJECT,
        check=True,
        timeout=60,
    )
    assert releases(app) == before + 4
    get_store(app).dispose()


def test_an_event_of_a_deleted_tenant_does_not_hold_the_audit_rows_back(tmp_path: Path) -> None:
    from provisioner.pairing import flush_timeline
    from provisioner.tenants.repository import delete_tenant

    app = make_app(tmp_path, ALLOW_BASIC_OVER_HTTP=True, PHONE_TIMELINE_FLUSH_SECONDS=3600)
    import_demo(app)
    headers = paired_headers(app)
    before = releases(app)  # (a read: it writes what was queued so far)
    assert app.test_client().get(f"/p/a/{MAC}.cfg", headers=headers).status_code == 200
    with get_store(app).transaction() as session:  # before the writer's next batch
        delete_tenant(session, "demo", "test")
    flush_timeline(app)  # the event names a tenant that is gone: it cannot be written
    assert releases(app) == before + 1  # the release's audit row is written all the same
    get_store(app).dispose()


def device_events(app: Flask, mac: str = MAC) -> list[tuple[str, str]]:
    """The device's timeline rows in the table: (answer, kind), oldest first."""
    flush_timeline(app)
    with get_store(app).reading() as session:
        rows = session.scalars(
            select(models.DeviceEvent)
            .where(models.DeviceEvent.mac == mac)
            .order_by(models.DeviceEvent.id)
        )
        return [(row.answer, row.kind) for row in rows]


def test_a_digest_fetch_leaves_its_answer_and_an_unanswered_challenge_stays(
    tmp_path: Path,
) -> None:
    # Written only when flushed here: both legs of each fetch are in one batch.
    app = make_app(tmp_path, PHONE_TIMELINE_FLUSH_SECONDS=3600)
    import_demo(app)
    token = deployed_phone(app, MAC).removeprefix("Basic ")
    username, _, password = base64.b64decode(token).decode().partition(":")
    client, path = app.test_client(), f"/p/a/{MAC}.cfg"
    for _ in range(2):  # the phone boots twice: two challenges, each answered
        challenge = client.get(path, headers={"User-Agent": AGENT})
        assert challenge.status_code == 401
        header = digest_authorization(
            challenge.headers.getlist("WWW-Authenticate")[0], "GET", path, username, password
        )
        answer = client.get(path, headers={"User-Agent": AGENT, "Authorization": header})
        assert answer.status_code == 200
    assert client.get(path, headers={"User-Agent": AGENT}).status_code == 401  # not answered
    assert device_events(app) == [
        ("full", "full-credentials"),
        ("full", "full-credentials"),
        ("denied", "challenge"),
    ]
    get_store(app).dispose()


def test_a_device_is_trimmed_to_its_newest_events_every_tenth_of_its_limit(
    tmp_path: Path, database_url: str
) -> None:
    limit = 20  # trimmed once it has gathered 2 events since its last trim
    app = make_app(
        tmp_path, database_url, PHONE_TIMELINE_LENGTH=limit, PHONE_TIMELINE_FLUSH_SECONDS=3600
    )
    import_demo(app)
    client = app.test_client()
    counts = []
    for _ in range(25):  # a batch per request
        assert client.get(f"/p/{MAC}.cfg", headers={"User-Agent": AGENT}).status_code == 200
        counts.append(len(device_events(app)))
    assert counts[:limit] == list(range(1, limit + 1))
    assert set(counts[limit:]) == {limit, limit + 1}  # never more than a tenth over
    assert counts[-1] == limit + 1 and counts[-2] == limit
