"""Kept answers over HTTP: a change through the API shows on the very next lookup, in every
worker (two apps on one database stand for two workers of the production command)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from lxml import etree

from provisioner.pairing import flush_timeline
from provisioner.routing.directory import a1_hash
from provisioner.store import get_store
from tests.conftest import import_demo, make_app, token_for
from tests.http.test_freeswitch import DOMAIN, TOKEN, post_xml, sip_auth


@pytest.fixture
def workers(tmp_path: Path, database_url: str) -> tuple[Flask, Flask]:
    """Two apps on the same store and key, each with its own kept answers."""
    first = make_app(tmp_path, database_url, FREESWITCH_TOKEN=TOKEN)
    import_demo(first)
    second = make_app(
        tmp_path,
        FREESWITCH_TOKEN=TOKEN,
        SECRETS_KEY=first.config["SECRETS_KEY"],
        DATABASE_URL=first.config["DATABASE_URL"],
    )
    yield first, second
    for application in (first, second):
        flush_timeline(application)  # before the schema goes
        get_store(application).dispose()


def a1_hash_of(content: bytes) -> str:
    return etree.fromstring(content).find(".//param[@name='a1-hash']").get("value")


def eventually(fetch: Callable[[], bytes], wanted: Callable[[bytes], bool]) -> bytes:
    """What ``fetch`` gives once ``wanted`` holds (tried for up to 2 s), else its last answer."""
    deadline = time.monotonic() + 2
    content = fetch()
    while not wanted(content) and time.monotonic() < deadline:
        time.sleep(0.02)
        content = fetch()
    return content


def test_a_new_sip_password_is_answered_at_once_in_every_worker(workers):
    first, second = workers
    before = post_xml(first, sip_auth("240"))
    assert post_xml(first, sip_auth("240")) == before  # now kept
    admin = {"Authorization": f"Bearer {token_for(second, 'admin')}"}
    response = second.test_client().patch(
        "/api/v1/tenants/demo/extensions/240",
        json={"sip_password": "Nieuw-wachtwoord-2026"},
        headers=admin,
    )
    assert response.status_code == 200, response.get_json()
    # On PostgreSQL the other worker hears of it when the change notice arrives (milliseconds).
    after = eventually(lambda: post_xml(first, sip_auth("240")), lambda content: content != before)
    assert a1_hash_of(after) == a1_hash("240", DOMAIN, "Nieuw-wachtwoord-2026")


def dialled(app: Flask, number: str) -> bytes:
    form = {"section": "dialplan", "Hunt-Context": DOMAIN, "Hunt-Destination-Number": number}
    return post_xml(app, form)


def test_a_new_ring_group_is_in_the_next_dialplan_and_directory(workers):
    first, second = workers
    before = dialled(first, "*8600")
    assert b"number *8600" not in before
    listing = {"section": "directory", "domain": DOMAIN, "action": "group_call"}
    groups_before = post_xml(first, listing)
    admin = {"Authorization": f"Bearer {token_for(second, 'admin')}"}
    response = second.test_client().post(
        "/api/v1/tenants/demo/ring_groups",
        json={"number": "*8600", "name": "Support", "members": ["240", "241"]},
        headers=admin,
    )
    assert response.status_code == 201, response.get_json()
    assert b"number *8600" in eventually(
        lambda: dialled(first, "*8600"), lambda content: b"number *8600" in content
    )
    groups = etree.fromstring(post_xml(first, listing)).findall(".//group")
    assert "8600" in [group.get("name") for group in groups]
    assert post_xml(first, listing) != groups_before


def test_every_kept_registration_is_still_audited(workers):
    from sqlalchemy import func, select

    from provisioner.store import models

    first, _ = workers
    for _ in range(3):
        post_xml(first, sip_auth("240"))
    flush_timeline(first)  # the rows go to the batched writer; a reader here flushes it
    with get_store(first).reading() as session:
        released = session.scalar(
            select(func.count())
            .select_from(models.AuditEvent)
            .where(models.AuditEvent.action == "release-secret")
            .where(models.AuditEvent.object_key == "240")
        )
    assert released == 3


@pytest.mark.postgres
def test_a_change_committed_elsewhere_reaches_the_kept_domains(
    tmp_path: Path, postgres_url: str
) -> None:
    from sqlalchemy import create_engine, update

    from provisioner.routing.answers import get_answer_cache
    from provisioner.security.secrets import get_secret_box
    from provisioner.store import models

    app = make_app(tmp_path, postgres_url, FREESWITCH_TOKEN=TOKEN)
    import_demo(app)
    post_xml(app, sip_auth("240"))  # starts the watch on the tenants' notices
    domains = get_answer_cache(app).domains
    assert domains is not None
    deadline = time.monotonic() + 5
    while not domains.live and time.monotonic() < deadline:
        time.sleep(0.02)
    before = post_xml(app, sip_auth("240"))
    assert domains.get(DOMAIN) is not None  # the tenant's row is kept: no read per lookup
    # Another process changes the password with plain statements (no session of this one).
    other = create_engine(postgres_url)
    encrypted = get_secret_box(app).encrypt("Elders-gezet-2026")
    try:
        with other.begin() as connection:
            connection.execute(
                update(models.Extension)
                .where(models.Extension.number == "240")
                .values(sip_password_encrypted=encrypted)
            )
            connection.execute(update(models.Tenant).values(revision="changed-elsewhere"))
    finally:
        other.dispose()
    wanted = a1_hash("240", DOMAIN, "Elders-gezet-2026")
    deadline = time.monotonic() + 2
    while a1_hash_of(post_xml(app, sip_auth("240"))) != wanted and time.monotonic() < deadline:
        time.sleep(0.02)
    assert a1_hash_of(post_xml(app, sip_auth("240"))) == wanted != a1_hash_of(before)
    flush_timeline(app)
    get_store(app).dispose()


def test_lookups_leave_their_audit_rows_to_the_writer_and_a_reader_sees_them(
    tmp_path: Path,
) -> None:
    from sqlalchemy import func, select

    from provisioner.store import models

    app = make_app(tmp_path, FREESWITCH_TOKEN=TOKEN, PHONE_TIMELINE_FLUSH_SECONDS=60)
    import_demo(app)
    for _ in range(3):
        post_xml(app, sip_auth("240"))  # a lookup writes nothing itself: no INSERT per lookup

    def released() -> int | None:
        with get_store(app).reading() as session:
            return session.scalar(
                select(func.count())
                .select_from(models.AuditEvent)
                .where(models.AuditEvent.action == "release-secret")
            )

    assert released() == 0
    admin = {"Authorization": f"Bearer {token_for(app, 'admin')}"}
    audit = app.test_client().get("/api/v1/audit?action=release-secret", headers=admin)
    assert audit.status_code == 200  # a reader's request writes the queued rows first
    assert released() == 3
    flush_timeline(app)
    get_store(app).dispose()


@pytest.mark.postgres
def test_a_public_numbers_owner_is_kept_and_a_change_elsewhere_reaches_it(
    tmp_path: Path, postgres_url: str
) -> None:
    from sqlalchemy import create_engine, delete, event, update

    from provisioner.routing.answers import get_answer_cache
    from provisioner.store import models

    app = make_app(tmp_path, postgres_url, FREESWITCH_TOKEN=TOKEN)
    import_demo(app)
    incoming = {"section": "dialplan", "Hunt-Context": "public"}
    incoming["Hunt-Destination-Number"] = "0202103356"
    assert b"+31202103356" in post_xml(app, incoming)  # starts the watch
    domains = get_answer_cache(app).domains
    assert domains is not None
    assert eventually(lambda: post_xml(app, incoming), lambda _: domains.live)
    assert b"+31202103356" in post_xml(app, incoming)  # its owners now kept
    reads: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "numbers" in statement:
            reads.append(statement)

    event.listen(get_store(app).statement_engine, "before_cursor_execute", note)
    assert b"+31202103356" in post_xml(app, incoming)
    assert reads == []  # no query of the numbers per call
    # Another process takes the number away (with its tenant's row, as every save does).
    other = create_engine(postgres_url)
    try:
        with other.begin() as connection:
            connection.execute(delete(models.Number).where(models.Number.number == "+31202103356"))
            connection.execute(update(models.Tenant).values(revision="changed-elsewhere"))
    finally:
        other.dispose()
    gone = eventually(
        lambda: post_xml(app, incoming), lambda content: b"+31202103356" not in content
    )
    assert b"+31202103356" not in gone
    flush_timeline(app)
    get_store(app).dispose()
