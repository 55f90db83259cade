"""Staged rollouts: a stable 10% of 200 simulated phones, widened to 100%; canaries; the
counts; the checks that refuse a rollout naming what is wrong."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from provisioner.firmware.rollout import is_selected
from provisioner.pairing.credentials import issue_credential
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.store.models import AuditEvent
from provisioner.tenants.repository import find_tenant, load_document, save_document
from provisioner.tenants.schema.devices import Phone
from tests.firmware.conftest import DEMO_MAC, NEW_VERSION, OLD_VERSION, boot, firmware_url

FLEET = 200


def fleet_macs() -> list[str]:
    """The demo Yealink and 199 more, as a provider's customer would have them."""
    return [DEMO_MAC, *(f"805ec0{index:06x}" for index in range(1, FLEET))]


@pytest.fixture
def fleet(firmware_app: Flask) -> list[str]:
    """200 paired T46Us in the demo tenant, each inside its first-use window."""
    macs = fleet_macs()
    box = get_secret_box(firmware_app)
    with get_store(firmware_app).transaction() as session:
        tenant = find_tenant(session, "demo")
        document = load_document(session, tenant)
        phones = [*document.phones] + [
            Phone(mac=mac, vendor="yealink", model="T46U", lines=["241"]) for mac in macs[1:]
        ]
        save_document(session, document.model_copy(update={"phones": phones}), "test", box)
        for mac in macs:
            issue_credential(session, box, tenant.id, mac, 30)
    return macs


def pointed(client: FlaskClient, macs: list[str]) -> set[str]:
    """The phones whose config (booting the old version) names a firmware image."""
    return {mac for mac in macs if firmware_url(boot(client, mac, OLD_VERSION)) is not None}


def position(rollout_id: int, mac: str) -> int:
    """The documented order (docs/firmware.md), computed here independently."""
    digest = hashlib.sha256(f"{rollout_id}:{mac}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000


def test_ten_percent_of_200_stays_the_same_phones_and_widens_to_all(
    firmware_app: Flask, fleet: list[str], admin: dict[str, str]
) -> None:
    client = firmware_app.test_client()
    start = {"tenant": "demo", "vendor": "yealink", "model": "T46U", "version": NEW_VERSION}
    created = client.post(
        "/api/v1/firmware/rollouts", json={**start, "percentage": 10}, headers=admin
    )
    assert created.status_code == 201, created.json
    rollout_id = created.json["id"]

    first = pointed(client, fleet)
    assert first == {mac for mac in fleet if position(rollout_id, mac) < 1000}
    assert 10 <= len(first) <= 30  # about 20 of 200
    assert pointed(client, fleet) == first  # stable: the same phones on every boot
    counts = client.get(f"/api/v1/firmware/rollouts/{rollout_id}", headers=admin).json["counts"]
    assert counts == {"targeted": len(first), "upgraded": 0, "pending": len(first), "failed": 0}

    for mac in sorted(first)[:5]:  # five of them come back on the new version
        assert firmware_url(boot(client, mac, NEW_VERSION)) is None
    half = client.patch(
        f"/api/v1/firmware/rollouts/{rollout_id}", json={"percentage": 50}, headers=admin
    )
    assert half.status_code == 200, half.json
    second = pointed(client, fleet) | set(sorted(first)[:5])
    assert first < second
    assert half.json["counts"]["upgraded"] == 5

    client.patch(f"/api/v1/firmware/rollouts/{rollout_id}", json={"percentage": 100}, headers=admin)
    everyone = pointed(client, fleet) | set(sorted(first)[:5])
    assert everyone == set(fleet)
    final = client.get(f"/api/v1/firmware/rollouts/{rollout_id}", headers=admin).json
    assert final["counts"] == {"targeted": FLEET, "upgraded": 5, "pending": FLEET - 5, "failed": 0}
    with get_store(firmware_app).reading() as session:
        widened = session.scalars(
            select(AuditEvent.changes)
            .where(AuditEvent.action == "widen", AuditEvent.object_key == str(rollout_id))
            .order_by(AuditEvent.id)
        ).all()
    assert widened == [{"percentage": [10, 50]}, {"percentage": [50, 100]}]


def test_selection_is_stable_and_only_grows_with_the_percentage() -> None:
    macs = fleet_macs()
    previous: set[str] = set()
    for percentage in (0, 1, 10, 25, 50, 99, 100):
        chosen = {mac for mac in macs if is_selected(7, percentage, (), mac)}
        assert previous <= chosen
        previous = chosen
    assert previous == set(macs)
    other_rollout = {mac for mac in macs if is_selected(8, 10, (), mac)}
    assert other_rollout != {mac for mac in macs if is_selected(7, 10, (), mac)}


def test_a_site_rollout_wins_over_the_tenant_wide_one(
    firmware_app: Flask, admin: dict[str, str]
) -> None:
    client = firmware_app.test_client()
    from tests.firmware.conftest import open_window

    open_window(firmware_app, DEMO_MAC)
    common = {"tenant": "demo", "vendor": "yealink", "model": "T46U", "canary": [DEMO_MAC]}
    tenant_wide = client.post(
        "/api/v1/firmware/rollouts", json={**common, "version": NEW_VERSION}, headers=admin
    )
    assert tenant_wide.status_code == 201
    site = client.post(
        "/api/v1/firmware/rollouts",
        json={**common, "version": OLD_VERSION, "site": "Kantoor Amsterdam"},
        headers=admin,
    )
    assert site.status_code == 201, site.json
    url = firmware_url(boot(client, DEMO_MAC, "108.86.0.1"))
    assert url is not None and url.endswith(f"T46U-{OLD_VERSION}.rom")


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        ({"version": "9.9.9"}, "version", "the catalogue has no yealink T46U 9.9.9"),
        ({"model": "T99"}, "model", "Yealink has no T99"),
        ({"vendor": "acme"}, "vendor", "no vendor 'acme'"),
        ({"percentage": 101}, "percentage", "a whole number 0-100"),
        ({"percentage": "10"}, "percentage", "a whole number 0-100"),
        ({"canary": ["not-a-mac"]}, "canary[0]", ""),
        ({"site": "Rotterdam"}, "site", "demo has no site Rotterdam"),
        ({"rollback_version": "1.0"}, "rollback_version", "the catalogue has no"),
    ],
)
def test_a_wrong_rollout_is_refused_naming_the_field(
    firmware_app: Flask, admin: dict[str, str], change: dict[str, object], path: str, reason: str
) -> None:
    client = firmware_app.test_client()
    body = {"tenant": "demo", "vendor": "yealink", "model": "T46U", "version": NEW_VERSION}
    answer = client.post("/api/v1/firmware/rollouts", json={**body, **change}, headers=admin)
    assert answer.status_code == 422, answer.json
    problem = answer.json["error"]["problems"][0]
    assert problem["path"] == path
    assert reason in problem["reason"]
    assert client.get("/api/v1/firmware/rollouts", headers=admin).json["items"] == []


def test_rollouts_need_an_admin_and_unknown_ids_are_404(firmware_app: Flask) -> None:
    from tests.conftest import token_for

    client = firmware_app.test_client()
    technician = {"Authorization": f"Bearer {token_for(firmware_app, 'technician')}"}
    body = {"tenant": "demo", "vendor": "yealink", "model": "T46U", "version": NEW_VERSION}
    assert (
        client.post("/api/v1/firmware/rollouts", json=body, headers=technician).status_code == 403
    )
    assert client.get("/api/v1/firmware/rollouts/99", headers=technician).status_code == 404
    assert client.get("/api/v1/firmware/rollouts").status_code == 401


def test_phones_paired_without_a_model_count_with_the_model_they_announce(
    firmware_app: Flask,
) -> None:
    """Paired without --model (vendor and model unknown): the canary is targeted and upgraded
    in the counts once its own requests name a T46U, as the directive already treats it."""
    from provisioner.firmware.rollout import counts, find_rollout
    from provisioner.pairing import flush_timeline
    from tests.firmware.conftest import start_rollout

    mac = "805ec0000abc"
    box = get_secret_box(firmware_app)
    with get_store(firmware_app).transaction() as session:
        tenant = find_tenant(session, "demo")
        document = load_document(session, tenant)
        phones = [*document.phones, Phone(mac=mac, lines=["241"])]
        save_document(session, document.model_copy(update={"phones": phones}), "test", box)
        issue_credential(session, box, tenant.id, mac, 30)
    rollout_id = start_rollout(firmware_app, canary=(mac,))
    client = firmware_app.test_client()

    def counted() -> dict[str, int]:
        flush_timeline(firmware_app)  # requests are written in batches; readers flush
        with get_store(firmware_app).reading() as session:
            return counts(session, find_rollout(session, rollout_id))

    assert counted()["targeted"] == 0  # nothing says what it is yet
    assert firmware_url(boot(client, mac, OLD_VERSION)) is not None
    assert counted() == {"targeted": 1, "upgraded": 0, "pending": 1, "failed": 0}
    boot(client, mac, NEW_VERSION)
    assert counted() == {"targeted": 1, "upgraded": 1, "pending": 0, "failed": 0}
