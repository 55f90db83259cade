"""Firmware fixtures: a trusted signing key, images added through the catalogue, a fleet of
paired Yealinks in the demo tenant, and a client that boots one as the phone would."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from provisioner.firmware import catalogue_directory
from provisioner.firmware.catalogue import FirmwareEntry
from provisioner.firmware.signing import public_key_text, trusted_keys
from provisioner.firmware.verification import NewFirmware, add
from provisioner.pairing.credentials import issue_credential
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from tests.conftest import import_demo, make_app

PROVIDER_KEY = Ed25519PrivateKey.generate()
OLD_VERSION, NEW_VERSION = "108.86.0.90", "108.86.0.95"
DEMO_MAC = "805ec0123456"  # the demo tenant's Yealink T46U


def trust(app: Flask, *keys: Ed25519PrivateKey) -> None:
    """Make ``keys`` (the provider's key by default) the trusted ones."""
    texts = [public_key_text(key.public_key()) for key in keys or (PROVIDER_KEY,)]
    app.config["FIRMWARE_TRUSTED_KEYS"] = ",".join(texts)


def add_image(
    app: Flask,
    version: str = NEW_VERSION,
    content: bytes | None = None,
    name: str | None = None,
    vendor: str = "yealink",
    models: tuple[str, ...] = ("T46U",),
) -> FirmwareEntry:
    """Sign an image with the provider's key and add it to the app's catalogue."""
    source = catalogue_directory(app).parent / "incoming" / (name or f"T46U-{version}.rom")
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(content if content is not None else os.urandom(64 * 1024))
    new = NewFirmware(
        source, vendor, models, version, "test", "2026-12-03T10:00:00+00:00", None, PROVIDER_KEY
    )
    keys = trusted_keys(app.config["FIRMWARE_TRUSTED_KEYS"])
    return add(catalogue_directory(app), new, keys)


@pytest.fixture
def firmware_app(tmp_path: Path) -> Iterator[Flask]:
    """The demo tenant, the provider's key trusted, both Yealink versions in the catalogue."""
    app = make_app(tmp_path, PHONE_MISS_LIMIT=1000)
    import_demo(app)
    trust(app)
    add_image(app, OLD_VERSION)
    add_image(app, NEW_VERSION)
    yield app
    get_store(app).dispose()


def open_window(app: Flask, mac: str) -> None:
    """Pairing's first-use window for a phone the tenant already has."""
    with get_store(app).transaction() as session:
        from provisioner.tenants.repository import find_tenant

        tenant = find_tenant(session, "demo")
        issue_credential(session, get_secret_box(app), tenant.id, mac, 30)


def user_agent(mac: str, version: str) -> str:
    """A T46U's User-Agent."""
    colon = ":".join(mac[index : index + 2] for index in range(0, 12, 2))
    return f"Yealink SIP-T46U {version} {colon}"


def boot(client: FlaskClient, mac: str, version: str) -> str:
    """The phone's ``<mac>.cfg`` as it fetches it running ``version``."""
    answer = client.get(f"/p/{mac}.cfg", headers={"User-Agent": user_agent(mac, version)})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def firmware_url(config: str) -> str | None:
    """The ``static.firmware.url`` a Yealink config carries, if any."""
    for line in config.splitlines():
        if line.startswith("static.firmware.url = "):
            return line.removeprefix("static.firmware.url = ")
    return None


@pytest.fixture
def admin(firmware_app: Flask) -> dict[str, str]:
    """Headers with an admin token of the firmware app."""
    from tests.conftest import token_for

    return {"Authorization": f"Bearer {token_for(firmware_app, 'admin')}"}


def start_rollout(app: Flask, version: str = NEW_VERSION, **changes: object) -> int:
    """Start a T46U rollout in the demo tenant as the CLI would; its id."""
    from provisioner.firmware import rollout
    from provisioner.firmware.catalogue import read_manifest

    wanted = rollout.RolloutRequest(
        tenant="demo",
        vendor="yealink",
        model="T46U",
        version=version,
        **changes,  # type: ignore[arg-type]
    )
    entries = read_manifest(catalogue_directory(app))
    with get_store(app).transaction() as session:
        return rollout.start(session, wanted, entries, "test").id


def stored_image(app: Flask, version: str = NEW_VERSION) -> Path:
    """Where the catalogue keeps the T46U image of ``version``."""
    return catalogue_directory(app) / "yealink" / version / f"T46U-{version}.rom"
