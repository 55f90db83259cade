"""Phones' timeline events and release audit rows are written in batches off the request
path: by the writer's thread within its interval, and at a clean exit, with nothing lost."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from provisioner.store import get_store, models
from tests.conftest import PROJECT, import_demo, make_app
from tests.phones.conftest import deployed_phone

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
