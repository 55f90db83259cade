"""Rows written at once (the timeline's and the audit log's batches) read back as written, on
SQLite and on PostgreSQL (where they go through COPY)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from provisioner.store import get_store
from provisioner.store.bulk import among, insert_rows
from provisioner.store.models import AuditEvent, DeviceEvent
from tests.conftest import make_app

AT = datetime(2026, 12, 6, 23, 30, 1, 250000, tzinfo=UTC)
EVENT = {
    "tenant_id": None,
    "at": AT,
    "source": "127.0.0.1",
    "protocol": "http",
    "file": "a.cfg",
    "user_agent": "",
    "answer": "full",
    "kind": "full",
    "route": "/p/a/",
}


def test_event_and_audit_rows_read_back_as_written(tmp_path: Path, database_url: str) -> None:
    app = make_app(tmp_path, database_url)
    events = [
        {
            "tenant_id": None,
            "mac": f"805ec0aa00{number:02x}",
            "at": AT + timedelta(seconds=number),
            "source": "127.0.0.1",
            "protocol": "http",
            "file": "tab\there, new\nline\r, a quote ' and \\ backslash.cfg",  # COPY escapes
            "user_agent": "Yealink SIP-T46U 108.86.0.90 ünïcode",
            "answer": "full",
            "kind": "full",
            "route": "/p/a/",
        }
        for number in range(3)
    ]
    audits = [
        {
            "at": AT,
            "actor": "phone:805ec0aa0000",
            "action": "release-secret",
            "tenant": None,
            "object_type": "sip_account",
            "object_key": "240",
            "changes": {"file": "805ec0aa0000.cfg", "nested": {"list": [1, "two", None]}},
        }
    ]
    store = get_store(app)
    with store.transaction() as session:
        insert_rows(session, DeviceEvent, events)
        insert_rows(session, AuditEvent, audits)
        insert_rows(session, AuditEvent, [])  # nothing to write is no error
    with store.reading() as session:
        stored = session.scalars(select(DeviceEvent).order_by(DeviceEvent.id)).all()
        audit = session.scalars(select(AuditEvent)).one()
        read = (
            [{name: getattr(row, name) for name in events[0]} for row in stored],
            {name: getattr(audit, name) for name in audits[0]},
        )
    for rows in (read[0], [read[1]]):
        for row in rows:
            row["at"] = row["at"].replace(tzinfo=row["at"].tzinfo or UTC)  # SQLite keeps none
    assert read == (events, audits[0])
    store.dispose()


def test_a_failed_batch_leaves_nothing_behind(tmp_path: Path, database_url: str) -> None:
    app = make_app(tmp_path, database_url)
    store = get_store(app)
    good = {
        "at": AT,
        "actor": "a",
        "action": "b",
        "tenant": None,
        "object_type": "c",
        "object_key": "d",
        "changes": {},
    }
    try:
        with store.transaction() as session:
            insert_rows(session, AuditEvent, [good, dict(good, actor=None)])  # NOT NULL
    except Exception:  # noqa: BLE001 - each database says it in its own words
        pass
    else:
        raise AssertionError("a row breaking a constraint was written")
    with store.reading() as session:
        assert session.scalars(select(AuditEvent)).all() == []
    store.dispose()


def test_among_picks_the_rows_of_many_values(tmp_path: Path, database_url: str) -> None:
    """A batch's thousands of MACs, as one array parameter on PostgreSQL (an IN list there
    is a parameter per MAC) and an IN list on SQLite: the same rows either way."""
    app = make_app(tmp_path, database_url)
    macs = [f"805ec0{number:06x}" for number in range(3000)]
    rows = [{**EVENT, "mac": mac} for mac in macs]
    wanted = set(macs[::3]) | {"000000000000"}  # every third, and one no row has
    store = get_store(app)
    with store.transaction() as session:
        insert_rows(session, DeviceEvent, rows)
    with store.reading() as session:
        found = session.scalars(
            select(DeviceEvent.mac).where(among(session, DeviceEvent.mac, wanted))
        )
        assert sorted(found) == sorted(macs[::3])
        assert not session.scalars(
            select(DeviceEvent.mac).where(among(session, DeviceEvent.mac, set()))
        ).all()
    store.dispose()
