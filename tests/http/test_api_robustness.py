"""Odd bodies and keys never cause a 500: every answer is a 4xx naming what is wrong."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.orm import Session

from provisioner.store import get_store
from provisioner.store.models import ApiToken, Extension
from tests.conftest import import_demo, make_app, token_for

ODD_BODIES = [[], "text", 42, None, {"unexpected": True}, {"name": None}, {"number": ["240"]}]
TARGETS = [
    ("POST", "/api/v1/tenants"),
    ("PATCH", "/api/v1/tenants/demo"),
    ("PUT", "/api/v1/tenants/demo/document"),
    ("POST", "/api/v1/tenants/demo/extensions"),
    ("PUT", "/api/v1/tenants/demo/extensions/240"),
    ("PATCH", "/api/v1/tenants/demo/call_flows/Hoofdroute"),
    ("PATCH", "/api/v1/tenants/demo/ring_groups/*8500"),
    ("POST", "/api/v1/tenants/demo/numbers"),
    ("POST", "/api/v1/tenants/demo/nonsense"),
    ("PATCH", "/api/v1/tenants/nobody/extensions/240"),
]


@pytest.mark.parametrize(("method", "url"), TARGETS, ids=[f"{m} {u}" for m, u in TARGETS])
def test_odd_bodies_get_a_4xx_with_a_message(
    client: FlaskClient, admin_headers: dict[str, str], method: str, url: str
) -> None:
    for body in ODD_BODIES:
        response = client.open(url, method=method, json=body, headers=admin_headers)
        assert 400 <= response.status_code < 500, (body, response.get_data(as_text=True))
        assert response.get_json()["error"]["message"]


def test_invalid_json_text_is_a_4xx(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/tenants/demo/extensions",
        data="{not json",
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422


def test_a_phone_is_found_by_any_mac_notation(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    for notation in ("80:5e:c0:12:34:56", "80-5E-C0-12-34-56", "805e.c012.3456"):
        response = client.get(f"/api/v1/tenants/demo/phones/{notation}", headers=admin_headers)
        assert response.status_code == 200, notation
        assert response.get_json()["mac"] == "805ec0123456"


LONG_TEXT = "x" * 400
TOO_LONG = [
    ("PATCH", "/api/v1/tenants/demo", {"display_name": LONG_TEXT}, "display_name"),
    ("PATCH", "/api/v1/tenants/demo/sites/Kantoor Amsterdam", {"address": LONG_TEXT}, "address"),
    ("PATCH", "/api/v1/tenants/demo/numbers/5000", {"description": LONG_TEXT}, "description"),
    (
        "PATCH",
        "/api/v1/tenants/demo/call_flows/Hoofdroute",
        {"description": LONG_TEXT},
        "description",
    ),
    (
        "PATCH",
        "/api/v1/tenants/demo/phones/805ec0123456",
        {"description": LONG_TEXT},
        "description",
    ),
    (
        "PATCH",
        "/api/v1/tenants/demo/extensions/240",
        {"email": f"{LONG_TEXT}@example.net"},
        "email",
    ),
]


@pytest.mark.parametrize(("method", "url", "body", "path"), TOO_LONG, ids=[t[1] for t in TOO_LONG])
def test_text_longer_than_its_column_is_a_422_on_every_database(
    database_url: str, tmp_path: Path, method: str, url: str, body: dict[str, str], path: str
) -> None:
    app = make_app(tmp_path, database_url)
    import_demo(app)
    headers = {"Authorization": f"Bearer {token_for(app, 'admin')}"}
    response = app.test_client().open(url, method=method, json=body, headers=headers)
    get_store(app).dispose()
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["problems"][0]["path"] == path


@pytest.mark.parametrize("password", ['Quote"inside-it', "line\nbreak-inside", "with a space 1"])
def test_a_sip_password_a_phone_file_cannot_hold_is_refused_without_echoing_it(
    client: FlaskClient, admin_headers: dict[str, str], password: str
) -> None:
    # Found at save time, not when the phone boots and its configuration fails to render.
    response = client.patch(
        "/api/v1/tenants/demo/extensions/241",
        json={"sip_password": password},
        headers=admin_headers,
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["problems"][0]["path"] == "sip_password"
    assert password not in response.get_data(as_text=True)


def test_a_sip_password_with_symbols_is_accepted(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    response = client.patch(
        "/api/v1/tenants/demo/extensions/241",
        json={"sip_password": "Abc!def#123$%&*()[]{}<>?"},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.postgres
def test_two_writers_adding_the_same_extension_at_once_get_a_409_not_a_500(
    tmp_path: Path, postgres_url: str
) -> None:
    # The request validates against what it read; a second writer commits the same extension
    # before this request flushes (a double-submitted form): the database's unique key stops it.
    app = make_app(tmp_path, postgres_url)
    import_demo(app)
    headers = {"Authorization": f"Bearer {token_for(app, 'admin')}"}
    other = create_engine(postgres_url)
    pending = [True]

    def other_writer_first(session: Session, *_: object) -> None:
        if not pending or not any(isinstance(row, Extension) for row in session.new):
            return
        pending.clear()
        with other.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO extensions (tenant_id, number, name, voicemail, "
                    "sip_password_encrypted, created_at, updated_at) "
                    "SELECT id, '250', 'Other', false, 'x', now(), now() FROM tenants"
                )
            )

    event.listen(Session, "before_flush", other_writer_first)
    try:
        response = app.test_client().post(
            "/api/v1/tenants/demo/extensions",
            json={"number": "250", "name": "Eva"},
            headers=headers,
        )
    finally:
        event.remove(Session, "before_flush", other_writer_first)
        other.dispose()
        get_store(app).dispose()
    assert not pending, "the other writer did not run"
    assert response.status_code == 409, response.get_data(as_text=True)
    assert "at the same time" in response.get_json()["error"]["message"]


def test_api_reads_go_on_while_a_writer_holds_sqlite(demo_app: Flask, tmp_path: Path) -> None:
    # WAL lets readers go on during a write; authenticating must not write on every request
    # (it waited for the writer, then failed after the 30 s busy timeout).
    headers = {"Authorization": f"Bearer {token_for(demo_app, 'admin')}"}
    client = demo_app.test_client()
    assert client.get("/api/v1/tenants", headers=headers).status_code == 200
    with get_store(demo_app).reading() as session:
        assert session.scalar(select(ApiToken.last_used_at)) is not None
    writer = sqlite3.connect(tmp_path / "provisioner.sqlite3", timeout=0.1, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE tenants SET display_name = 'being written'")
        started = time.monotonic()
        response = client.get("/api/v1/tenants/demo", headers=headers)
        elapsed = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert response.status_code == 200
    assert elapsed < 5, f"the read waited {elapsed:.1f} s for the writer"
