"""GET /freeswitch/standby: the copy the switch stands by on while provisioner is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from lxml import etree

from provisioner.routing.directory import a1_hash
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.store.models import AuditEvent, Extension
from tests.conftest import import_demo, make_app
from tests.routing.dialplan_evaluator import route_number

TOKEN = "switch-token-for-the-standby-0123"
DOMAIN = "demo.sip.example.net"


@pytest.fixture
def switch_app(tmp_path: Path) -> Iterator[Flask]:
    application = make_app(tmp_path, FREESWITCH_TOKEN=TOKEN)
    import_demo(application)
    yield application
    get_store(application).dispose()


def fetch(app: Flask, etag: str = "", token: str = TOKEN):
    headers = {"Authorization": f"Bearer {token}"}
    if etag:
        headers["If-None-Match"] = f'"{etag}"'
    return app.test_client().get("/freeswitch/standby", headers=headers)


def releases(app: Flask) -> int:
    with get_store(app).reading() as session:
        return session.query(AuditEvent).filter_by(object_type="standby").count()


def test_the_pack_lets_each_phone_authenticate_with_its_own_digest_hash(switch_app):
    root = etree.fromstring(fetch(switch_app).data)
    domain = root.find(f"section[@name='directory']/domain[@name='{DOMAIN}']")
    first_group = domain.find("groups/group")
    assert first_group.get("name") == "provisioner-users"  # searched first, no pointers
    with get_store(switch_app).reading() as session:
        row = session.query(Extension).filter_by(number="240").one()
        password = get_secret_box(switch_app).decrypt(row.sip_password_encrypted)
    user = first_group.find("users/user[@id='240']")
    assert user.find("params/param[@name='a1-hash']").get("value") == a1_hash(
        "240", DOMAIN, password
    )
    assert user.find("params/param[@name='vm-password']") is None  # no PINs in the pack
    assert first_group.find("users/user[@id='8000']") is not None  # a box to leave messages in


def test_the_pack_routes_emergency_numbers_first_and_every_public_number(switch_app):
    content = fetch(switch_app).data
    assert route_number(content, DOMAIN, "112")[0] == "emergency"
    assert route_number(content, DOMAIN, "5000")[0] == "number 5000"
    assert route_number(content, "public", "0202103356")[0] == "public +31202103356"


def test_an_unchanged_pack_is_a_304_and_releases_nothing(switch_app):
    first = fetch(switch_app)
    assert first.status_code == 200 and releases(switch_app) == 1
    again = fetch(switch_app, etag=first.headers["ETag"].strip('"'))
    assert again.status_code == 304 and again.data == b""
    assert releases(switch_app) == 1


def test_without_the_token_the_pack_is_not_found(switch_app):
    assert fetch(switch_app, token="wrong").status_code == 404
    assert releases(switch_app) == 0
