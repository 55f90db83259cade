"""Phone fixtures: a real HTTP server on an ephemeral loopback port, pairing helpers."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from provisioner.pairing import service
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.tenants.repository import find_tenant, load_document, reveal_secret, save_document
from provisioner.tenants.schema.devices import Phone
from tests.conftest import import_demo, make_app
from tests.phones.samples import Sample


@pytest.fixture
def phone_app(tmp_path: Path) -> Iterator[Flask]:
    """The demo tenant on SQLite, with the miss limit high enough for normal boots."""
    app = make_app(tmp_path, PHONE_MISS_LIMIT=50)
    import_demo(app)
    yield app
    get_store(app).dispose()


def serve(app: Flask) -> tuple[str, threading.Thread, object]:
    """Start ``app`` on 127.0.0.1 with an ephemeral port; return its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", thread, server


@pytest.fixture
def live_server(phone_app: Flask) -> Iterator[str]:
    """The phone app served over real HTTP on loopback."""
    url, thread, server = serve(phone_app)
    yield url
    server.shutdown()  # type: ignore[attr-defined]
    thread.join(timeout=10)


def pair(app: Flask, mac: str, vendor: str, model: str, extension: str = "240") -> None:
    """Pair ``mac`` with ``extension`` in the demo tenant, as an admin would (several phones
    of these tests share 240)."""
    with get_store(app).transaction() as session:
        service.pair(
            session,
            get_secret_box(app),
            "demo",
            mac,
            extension,
            "test",
            30,
            vendor,
            model,
            may_read_secrets=True,
        )


def sip_password(app: Flask, extension: str = "240") -> str:
    """The extension's SIP password, read through the audited API path."""
    with get_store(app).transaction() as session:
        tenant = find_tenant(session, "demo")
        return reveal_secret(session, get_secret_box(app), tenant, "extensions", extension, "test")[
            "sip_password"
        ]


def all_secrets(app: Flask) -> list[str]:
    """Every secret of the demo tenant: SIP passwords, credentials, the admin password."""
    from sqlalchemy import select

    from provisioner.store import models

    box = get_secret_box(app)
    with get_store(app).reading() as session:
        columns = [
            *session.scalars(select(models.Extension.sip_password_encrypted)),
            *session.scalars(select(models.DeviceCredential.password_encrypted)),
            *filter(None, session.scalars(select(models.Tenant.phone_admin_password_encrypted))),
        ]
    return [box.decrypt(value) for value in columns]


def encrypt_files_of(app: Flask, *vendors: str) -> None:
    """Turn encrypted files on for ``vendors`` in the demo tenant (its provisioning setting)."""
    with get_store(app).transaction() as session:
        document = load_document(session, find_tenant(session, "demo"))
        settings = document.provisioning.model_copy(update={"encrypted_files": list(vendors)})
        updated = document.model_copy(update={"provisioning": settings})
        save_document(session, updated, "test", get_secret_box(app))


def add_unpaired_phone(app: Flask, sample: Sample) -> None:
    """A phone the tenant has (on line 240) but nobody paired: no credentials, no window."""
    with get_store(app).transaction() as session:
        tenant = find_tenant(session, "demo")
        document = load_document(session, tenant)
        phone = Phone(mac=sample.mac, vendor=sample.vendor, model=sample.model, lines=["240"])
        updated = document.model_copy(update={"phones": [*document.phones, phone]})
        save_document(session, updated, "test", get_secret_box(app))


def deployed_phone(app: Flask, mac: str, vendor: str = "yealink", model: str = "T46U") -> str:
    """Pair ``mac`` with 240 in the demo tenant as a deployed phone (its first-use window
    already closed); its Basic ``Authorization`` header, read through the audited path."""
    box = get_secret_box(app)
    with get_store(app).transaction() as session:
        service.pair(
            session, box, "demo", mac, "240", "test", 0, vendor, model, may_read_secrets=True
        )
    with get_store(app).transaction() as session:
        login = service.reveal_credential(session, box, "demo", mac, "test")
    token = base64.b64encode(f"{login['username']}:{login['password']}".encode()).decode()
    return f"Basic {token}"
