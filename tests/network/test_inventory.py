"""Inventory through the admin API and the CLI: roles, validation, secrets at rest, audit."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.store.models import AuditEvent, NetworkDevice

URL = "/api/v1/tenants/demo/network-devices"
SWITCH = {
    "name": "sw-kantoor",
    "role": "switch",
    "site": "Kantoor Amsterdam",
    "address": "192.0.2.10",
    "community": "s3cret-community",
}
ROUTER = {
    "name": "rt-kantoor",
    "role": "router",
    "site": "Kantoor Amsterdam",
    "address": "192.0.2.1",
    "snmp_version": "3",
    "v3_user": "monitor",
    "auth_protocol": "SHA-256",
    "auth_key": "auth-secret-256",
    "priv_protocol": "AES-256",
    "priv_key": "priv-secret-256",
}


def test_admin_adds_devices_and_secrets_are_encrypted_at_rest(
    client: FlaskClient, demo_app: Flask, admin_headers: dict[str, str]
) -> None:
    for body in (SWITCH, ROUTER):
        response = client.post(URL, json=body, headers=admin_headers)
        assert response.status_code == 201, response.json
        text = response.get_data(as_text=True)
        assert "s3cret-community" not in text and "-secret-256" not in text
    with get_store(demo_app).reading() as session:
        rows = {row.name: row for row in session.query(NetworkDevice)}
        audited = session.query(AuditEvent).filter_by(object_type="network_device").all()
    assert rows["sw-kantoor"].community_encrypted not in (None, "s3cret-community")
    assert rows["rt-kantoor"].priv_key_encrypted not in (None, "priv-secret-256")
    assert "s3cret" not in str([event.changes for event in audited])
    assert {event.object_key for event in audited} == {"sw-kantoor", "rt-kantoor"}
    listed = client.get(URL, headers=admin_headers).json["items"]
    assert [(item["name"], item["status"]) for item in listed] == [
        ("rt-kantoor", "unknown"),
        ("sw-kantoor", "unknown"),
    ]
    assert listed[0]["secrets_set"] == ["auth_key", "priv_key"]


def test_support_and_technician_read_but_may_not_write(
    client: FlaskClient,
    admin_headers: dict[str, str],
    support_headers: dict[str, str],
    technician_headers: dict[str, str],
) -> None:
    client.post(URL, json=SWITCH, headers=admin_headers)
    for headers in (support_headers, technician_headers):
        assert client.get(URL, headers=headers).status_code == 200
        assert client.get(f"{URL}/sw-kantoor", headers=headers).status_code == 200
        assert client.post(URL, json={**SWITCH, "name": "x"}, headers=headers).status_code == 403
        assert client.delete(f"{URL}/sw-kantoor", headers=headers).status_code == 403
    assert client.get(URL).status_code == 401


def test_invalid_devices_are_refused_naming_the_field(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    cases = [
        ({**ROUTER, "priv_key": None}, "priv_key"),
        ({**SWITCH, "community": None}, "community"),
        ({**SWITCH, "site": "Rotterdam"}, "site"),
        ({**SWITCH, "port": 70000}, "port"),
        ({**ROUTER, "auth_key": "short"}, "auth_key"),
        ({**ROUTER, "priv_protocol": "DES"}, "priv_protocol"),
    ]
    for body, field in cases:
        response = client.post(URL, json=body, headers=admin_headers)
        assert response.status_code == 422, body
        problems = response.json["error"]["problems"]
        assert any(field in problem["path"] + problem["reason"] for problem in problems), problems
    assert client.get(URL, headers=admin_headers).json["items"] == []


def test_duplicate_name_is_a_conflict_and_delete_removes(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    assert client.post(URL, json=SWITCH, headers=admin_headers).status_code == 201
    assert client.post(URL, json=SWITCH, headers=admin_headers).status_code == 409
    assert client.delete(f"{URL}/sw-kantoor", headers=admin_headers).status_code == 204
    assert client.get(f"{URL}/sw-kantoor", headers=admin_headers).status_code == 404


def test_cli_add_list_remove(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    added = runner.invoke(
        args=[
            "network",
            "add",
            "demo",
            "sw1",
            "--role",
            "switch",
            "--address",
            "127.0.0.1",
            "--community",
            "public",
            "--site",
            "Kantoor Amsterdam",
        ]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(args=["network", "list", "demo"])
    assert "demo/sw1\tswitch\t127.0.0.1:161\tv2c\tKantoor Amsterdam\tunknown" in listed.output
    refused = runner.invoke(
        args=[
            "network",
            "add",
            "demo",
            "rt1",
            "--role",
            "router",
            "--address",
            "127.0.0.1",
            "--snmp-version",
            "3",
            "--v3-user",
            "monitor",
        ]
    )
    assert refused.exit_code == 1
    assert "auth_key" in refused.output and "nothing was changed" in refused.output
    from_environment = runner.invoke(
        args=[
            "network",
            "add",
            "demo",
            "rt1",
            "--role",
            "router",
            "--address",
            "127.0.0.1",
            "--snmp-version",
            "3",
            "--v3-user",
            "monitor",
            "--auth-protocol",
            "SHA",
            "--priv-protocol",
            "AES",
        ],
        env={
            "PROVISIONER_SNMP_AUTH_KEY": "auth-from-env",
            "PROVISIONER_SNMP_PRIV_KEY": "priv-env-1",
        },
    )
    assert from_environment.exit_code == 0, from_environment.output
    with get_store(demo_app).reading() as session:
        row = session.query(NetworkDevice).filter_by(name="rt1").one()
        assert get_secret_box(demo_app).decrypt(row.auth_key_encrypted) == "auth-from-env"
    runner.invoke(args=["network", "remove", "demo", "rt1"])
    removed = runner.invoke(args=["network", "remove", "demo", "sw1"])
    assert removed.exit_code == 0
    emptied = runner.invoke(args=["network", "list", "demo"]).output
    assert emptied == "DEVICE\tROLE\tADDRESS\tSNMP\tSITE\tSTATUS\n"


def test_patch_changes_fields_and_replaces_a_secret_only_when_given(
    client: FlaskClient, demo_app: Flask, admin_headers: dict[str, str]
) -> None:
    client.post(URL, json=ROUTER, headers=admin_headers)
    moved = client.patch(
        f"{URL}/rt-kantoor", json={"address": "192.0.2.254"}, headers=admin_headers
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["address"] == "192.0.2.254"
    box = get_secret_box(demo_app)
    with get_store(demo_app).reading() as session:
        row = session.query(NetworkDevice).filter_by(name="rt-kantoor").one()
        assert box.decrypt(row.auth_key_encrypted) == "auth-secret-256"
    rekeyed = client.patch(
        f"{URL}/rt-kantoor", json={"auth_key": "a-new-auth-key"}, headers=admin_headers
    )
    assert "a-new-auth-key" not in rekeyed.get_data(as_text=True)
    with get_store(demo_app).reading() as session:
        row = session.query(NetworkDevice).filter_by(name="rt-kantoor").one()
        assert box.decrypt(row.auth_key_encrypted) == "a-new-auth-key"
        updates = session.query(AuditEvent).filter_by(action="update").all()
    assert updates[0].changes == {"address": ["192.0.2.1", "192.0.2.254"]}
    assert updates[1].changes == {"auth_key": ["<secret>", "<secret>"]}
    bad = client.patch(f"{URL}/rt-kantoor", json={"priv_key": "x"}, headers=admin_headers)
    assert bad.status_code == 422
    renamed = client.patch(f"{URL}/rt-kantoor", json={"name": "rt-2"}, headers=admin_headers)
    assert renamed.status_code == 422


def test_cli_update_changes_only_the_options_given(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    runner.invoke(
        args=[
            "network",
            "add",
            "demo",
            "sw1",
            "--role",
            "switch",
            "--address",
            "127.0.0.1",
            "--community",
            "public",
        ]
    )
    updated = runner.invoke(
        args=["network", "update", "demo", "sw1", "--port", "1161", "--disabled"]
    )
    assert updated.exit_code == 0, updated.output
    assert "updated demo/sw1: enabled, port" in updated.output
    with get_store(demo_app).reading() as session:
        row = session.query(NetworkDevice).filter_by(name="sw1").one()
        assert (row.port, row.enabled, row.address, row.role) == (
            1161,
            False,
            "127.0.0.1",
            "switch",
        )
