"""On PostgreSQL a phone that asked before is answered without reading the store again, and
any change (in this process, or committed by another) is seen: here at once, elsewhere as
soon as the database's change notice arrives."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, update

from provisioner.pairing import flush_timeline, service
from provisioner.pairing.credentials import tenant_admin_password
from provisioner.phones.authorize import LOOKUPS_KEY
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from provisioner.store import notices as lookups
from provisioner.tenants.repository import find_tenant
from tests.conftest import import_demo, make_app
from tests.phones.conftest import deployed_phone, pair

MAC = "805ec0aa0101"
AGENT = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:aa:01:01"
FILE = f"/p/a/{MAC}.cfg"


@pytest.fixture
def pg_phone_app(tmp_path: Path, postgres_url: str) -> Iterator[Flask]:
    app = make_app(tmp_path, postgres_url, PHONE_MISS_LIMIT=100, ALLOW_BASIC_OVER_HTTP=True)
    import_demo(app)
    app.config["TEST_BASIC"] = deployed_phone(app, MAC)
    yield app
    flush_timeline(app)  # before the schema goes
    get_store(app).dispose()


def basic(app: Flask) -> dict[str, str]:
    return {"Authorization": app.config["TEST_BASIC"], "User-Agent": AGENT}


def fetch(client: FlaskClient, headers: dict[str, str]) -> int:
    return client.get(FILE, headers=headers).status_code


def reads(app: Flask, naming: str = "") -> Callable[[], int]:
    """A counter of SELECTs (naming ``naming``) the phone path sends to the database."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and naming in statement:
            seen.append(statement)

    event.listen(get_store(app).statement_engine, "before_cursor_execute", note)
    return lambda: len(seen)


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def warm(app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    assert fetch(client, headers) == 200
    # Up, and done reading again what the first boot's changes (its admin password) forgot.
    assert wait_until(lambda: app.extensions[LOOKUPS_KEY].settled)
    assert fetch(client, headers) == 200  # kept from here


@pytest.mark.postgres
def test_a_phone_that_asked_before_costs_no_read(pg_phone_app: Flask) -> None:
    client, headers = pg_phone_app.test_client(), basic(pg_phone_app)
    warm(pg_phone_app, client, headers)
    count = reads(pg_phone_app)
    assert fetch(client, headers) == 200
    assert count() == 0


@pytest.mark.postgres
def test_an_unpaired_phone_is_refused_at_once(
    pg_phone_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This process listens on a channel no notice comes on: only its own commit can tell it.
    monkeypatch.setattr(lookups, "CHANNEL", "provisioner_test_no_notices")
    client, headers = pg_phone_app.test_client(), basic(pg_phone_app)
    warm(pg_phone_app, client, headers)
    with get_store(pg_phone_app).transaction() as session:
        service.unpair(session, get_secret_box(pg_phone_app), "demo", MAC, "test")
    assert fetch(client, headers) == 401


@pytest.mark.postgres
def test_a_change_committed_by_another_process_is_seen_when_its_notice_arrives(
    pg_phone_app: Flask, postgres_url: str
) -> None:
    client, headers = pg_phone_app.test_client(), basic(pg_phone_app)
    warm(pg_phone_app, client, headers)
    # Another process: its own engine, a plain statement (no session of this process sees it).
    other = create_engine(postgres_url)
    new_password = get_secret_box(pg_phone_app).encrypt("a-new-provisioning-password")
    try:
        with other.begin() as connection:
            connection.execute(
                update(models.DeviceCredential)
                .where(models.DeviceCredential.mac == MAC)
                .values(password_encrypted=new_password)
            )
    finally:
        other.dispose()
    assert wait_until(lambda: fetch(client, headers) == 401, seconds=2)
    token = base64.b64encode(f"{MAC}:a-new-provisioning-password".encode()).decode()
    assert fetch(client, {**headers, "Authorization": f"Basic {token}"}) == 200


@pytest.mark.postgres
def test_paired_phones_are_read_in_one_go_when_the_watch_starts(pg_phone_app: Flask) -> None:
    client, headers = pg_phone_app.test_client(), basic(pg_phone_app)
    with get_store(pg_phone_app).transaction() as session:  # as after the tenant's first boot
        tenant_admin_password(session, get_secret_box(pg_phone_app), find_tenant(session, "demo"))
    unknown = {"User-Agent": "Yealink SIP-T46U 108.86.0.90 80:5e:c0:99:99:98"}
    assert client.get("/p/805ec0999998.cfg", headers=unknown).status_code == 200  # starts it
    # The watch is up and has made its one read of every paired phone.
    assert wait_until(lambda: pg_phone_app.extensions[LOOKUPS_KEY].settled)
    count = reads(pg_phone_app, naming="device_credentials")  # the phone's lookup
    assert fetch(client, headers) == 200  # this phone never asked this process before
    assert count() == 0


def settled_watch(app: Flask, client: FlaskClient) -> None:
    """Start this process's watch and wait until it has read every tenant's rows."""
    unknown = {"User-Agent": "Yealink SIP-T46U 108.86.0.90 80:5e:c0:99:99:98"}
    assert client.get("/p/805ec0999998.cfg", headers=unknown).status_code == 200
    assert wait_until(lambda: app.extensions[LOOKUPS_KEY].settled)


@pytest.mark.postgres
def test_a_mac_no_row_has_costs_no_read_once_every_tenant_is_read(pg_phone_app: Flask) -> None:
    client = pg_phone_app.test_client()
    settled_watch(pg_phone_app, client)
    count = reads(pg_phone_app, naming="device_credentials")
    guessed = {"User-Agent": "Yealink SIP-T46U 108.86.0.90 80:5e:c0:ab:cd:ef"}
    assert client.get("/p/805ec0abcdef.cfg", headers=guessed).status_code == 200
    assert count() == 0  # as for a phone that asked before: timing tells them not apart


@pytest.mark.postgres
def test_a_mac_paired_after_the_full_read_is_read_and_gets_its_window(
    pg_phone_app: Flask, postgres_url: str
) -> None:
    client = pg_phone_app.test_client()
    settled_watch(pg_phone_app, client)
    new_mac = "805ec0aa0202"
    agent = {"User-Agent": "Yealink SIP-T46U 108.86.0.90 80:5e:c0:aa:02:02"}
    pair(pg_phone_app, new_mac, "yealink", "T46U")  # this process: forgotten at its commit
    answer = client.get(f"/p/{new_mac}.cfg", headers=agent)
    assert answer.status_code == 200 and b"account.1.password" in answer.data
    # Another process's pairing, seen when its notice arrives (the tenant is read again).
    other = create_engine(postgres_url)
    try:
        with other.begin() as connection:
            connection.execute(
                update(models.DeviceCredential)
                .where(models.DeviceCredential.mac == new_mac)
                .values(mac="805ec0aa0303")
            )
            connection.execute(
                update(models.Phone).where(models.Phone.mac == new_mac).values(mac="805ec0aa0303")
            )
    finally:
        other.dispose()
    moved = {"User-Agent": "Yealink SIP-T46U 108.86.0.90 80:5e:c0:aa:03:03"}
    assert wait_until(
        lambda: b"account.1.password" in client.get("/p/805ec0aa0303.cfg", headers=moved).data,
        seconds=2,
    )


def challenge_events(app: Flask, mac: str) -> list[tuple[int | None, str, str]]:
    """The timeline rows of ``mac``: (tenant, answer, kind), oldest first."""
    flush_timeline(app)
    with get_store(app).reading() as session:
        rows = session.query(models.DeviceEvent).filter_by(mac=mac).order_by(models.DeviceEvent.id)
        return [(row.tenant_id, row.answer, row.kind) for row in rows]


@pytest.mark.postgres
@pytest.mark.parametrize("mac", [MAC, "805ec0abcdef"], ids=["paired", "unknown"])
def test_a_request_without_credentials_is_challenged_from_kept_rows_as_from_the_store(
    pg_phone_app: Flask, mac: str
) -> None:
    client = pg_phone_app.test_client()
    with get_store(pg_phone_app).transaction() as session:  # as after the tenant's first boot
        tenant_admin_password(session, get_secret_box(pg_phone_app), find_tenant(session, "demo"))
    colons = ":".join(mac[index : index + 2] for index in range(0, 12, 2))
    agent = {"User-Agent": f"Yealink SIP-T46U 108.86.0.90 {colons}"}
    from_store = client.get(f"/p/a/{mac}.cfg", headers=agent)  # before the watch is up
    settled_watch(pg_phone_app, client)
    count = reads(pg_phone_app)
    kept = client.get(f"/p/a/{mac}.cfg", headers=agent)
    assert count() == 0
    assert from_store.status_code == kept.status_code == 401
    assert list(from_store.headers.keys()) == list(kept.headers.keys())
    challenges = [answer.headers.getlist("WWW-Authenticate")[0] for answer in (from_store, kept)]
    assert all(challenge.startswith('Digest realm="provisioner"') for challenge in challenges)
    assert challenges[0] != challenges[1]  # each its own nonce
    with get_store(pg_phone_app).reading() as session:
        tenant = find_tenant(session, "demo").id if mac == MAC else None
    assert challenge_events(pg_phone_app, mac) == [(tenant, "denied", "challenge")] * 2
