"""The admin API: authentication, roles, CRUD on every collection, errors with paths, audit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from provisioner.tenants.schema import SECRET_FIELDS
from tests.conftest import DEMO_FILE

Headers = dict[str, str]
EXTENSIONS = "/api/v1/tenants/demo/extensions"
SECRET_COLLECTIONS = tuple(SECRET_FIELDS)


def audit_events(client: FlaskClient, headers: Headers) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit?tenant=demo&limit=1000", headers=headers)
    assert response.status_code == 200
    return response.get_json()["items"]


def test_no_token_is_401_with_a_challenge(client: FlaskClient) -> None:
    response = client.get("/api/v1/tenants")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization" in response.get_json()["error"]["message"]


def test_unknown_token_is_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/tenants", headers={"Authorization": "Bearer prov_guess"})
    assert response.status_code == 401


@pytest.mark.parametrize("role_headers", ["support_headers", "technician_headers"])
def test_read_only_roles_may_read_but_not_write(
    client: FlaskClient, role_headers: str, request: pytest.FixtureRequest
) -> None:
    headers = request.getfixturevalue(role_headers)
    assert client.get(EXTENSIONS, headers=headers).status_code == 200
    body = {"number": "244", "name": "Noor"}
    response = client.post(EXTENSIONS, json=body, headers=headers)
    assert response.status_code == 403
    role = role_headers.removesuffix("_headers")
    assert response.json["error"]["message"] == (
        f"A {role} token may not change tenant data. That needs an admin token."
    )
    assert client.delete(f"{EXTENSIONS}/241", headers=headers).status_code == 403
    assert client.get(f"{EXTENSIONS}/244", headers=headers).status_code == 404


def test_extension_lifecycle_is_audited_with_the_caller(
    client: FlaskClient, admin_headers: Headers
) -> None:
    created = client.post(EXTENSIONS, json={"number": "244", "name": "Noor"}, headers=admin_headers)
    assert created.status_code == 201
    assert "sip_password" not in created.get_json()
    changed = client.patch(f"{EXTENSIONS}/244", json={"name": "Noor B."}, headers=admin_headers)
    assert changed.get_json()["name"] == "Noor B."
    replaced = client.put(
        f"{EXTENSIONS}/244",
        json={"name": "Noor Bakker", "email": "noor@demo.example.net"},
        headers=admin_headers,
    )
    assert replaced.get_json() == {
        "number": "244",
        "name": "Noor Bakker",
        "email": "noor@demo.example.net",
        "voicemail": False,
    }
    assert client.delete(f"{EXTENSIONS}/244", headers=admin_headers).status_code == 204
    events = [e for e in audit_events(client, admin_headers) if e["object_key"] == "244"]
    assert [e["action"] for e in reversed(events)] == ["create", "update", "update", "delete"]
    assert {e["actor"] for e in events} == {"token:admin-test"}
    assert events[2]["changes"]["name"] == ["Noor", "Noor B."]
    assert events[3]["changes"]["sip_password"] == "<secret>"


def test_invalid_body_names_the_field(client: FlaskClient, admin_headers: Headers) -> None:
    response = client.post(EXTENSIONS, json={"number": "24a", "name": ""}, headers=admin_headers)
    assert response.status_code == 422
    paths = {problem["path"] for problem in response.get_json()["error"]["problems"]}
    assert paths == {"number", "name"}


def test_non_json_body_is_a_clear_422(client: FlaskClient, admin_headers: Headers) -> None:
    response = client.post(EXTENSIONS, data="number=244", headers=admin_headers)
    assert response.status_code == 422
    assert "JSON" in response.get_json()["error"]["message"]


def test_deleting_what_a_flow_uses_is_refused_with_the_path(
    client: FlaskClient, admin_headers: Headers
) -> None:
    response = client.delete(f"{EXTENSIONS}/240", headers=admin_headers)
    assert response.status_code == 422
    problems = response.get_json()["error"]["problems"]
    assert {
        "path": "call_flows[0].steps[5].target",
        "reason": "extension 240 does not exist",
    } in problems
    assert client.get(f"{EXTENSIONS}/240", headers=admin_headers).status_code == 200


def test_duplicate_key_is_409(client: FlaskClient, admin_headers: Headers) -> None:
    response = client.post(
        EXTENSIONS, json={"number": "240", "name": "Marc 2"}, headers=admin_headers
    )
    assert response.status_code == 409


def test_number_clash_and_emergency_number_are_refused(
    client: FlaskClient, admin_headers: Headers
) -> None:
    numbers = "/api/v1/tenants/demo/numbers"
    clash = client.post(
        numbers, json={"number": "*8500", "destination": "extension:240"}, headers=admin_headers
    )
    assert clash.status_code == 422
    assert "already used by ring_groups[0].number" in clash.get_data(as_text=True)
    emergency = client.post(
        numbers,
        json={"number": "112", "destination": "call_flow:Hoofdroute"},
        headers=admin_headers,
    )
    assert emergency.status_code == 422
    assert emergency.get_json()["error"]["problems"][0]["path"].endswith(".number")


def test_key_cannot_change_through_put(client: FlaskClient, admin_headers: Headers) -> None:
    response = client.put(
        f"{EXTENSIONS}/241", json={"number": "249", "name": "Sanne"}, headers=admin_headers
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("collection", "key"),
    [
        ("extensions", "240"),
        ("voicemail_boxes", "8000"),
        ("ring_groups", "*8500"),
        ("queues", "Wachtrij 1"),
        ("time_conditions", "Openingstijden"),
        ("sounds", "Welkom.mp3"),
        ("numbers", "+31202103356"),
        ("call_flows", "Hoofdroute"),
        ("phones", "805ec0123456"),
        ("sites", "Kantoor Amsterdam"),
    ],
)
def test_every_collection_reads_by_key(
    client: FlaskClient, support_headers: Headers, collection: str, key: str
) -> None:
    from urllib.parse import quote

    listing = client.get(f"/api/v1/tenants/demo/{collection}", headers=support_headers)
    assert listing.status_code == 200 and listing.get_json()["items"]
    one = client.get(f"/api/v1/tenants/demo/{collection}/{quote(key)}", headers=support_headers)
    assert one.status_code == 200, one.get_data(as_text=True)


def test_secrets_are_released_to_admins_only_and_audited(
    client: FlaskClient, admin_headers: Headers, support_headers: Headers
) -> None:
    url = f"{EXTENSIONS}/240/secrets"
    assert client.get(url, headers=support_headers).status_code == 403
    response = client.get(url, headers=admin_headers)
    assert len(response.get_json()["sip_password"]) == 20
    release = audit_events(client, admin_headers)[0]
    assert (release["action"], release["object_key"]) == ("release-secret", "240")
    assert release["changes"] == {"fields": ["sip_password"]}


def test_flow_step_update_through_patch(client: FlaskClient, admin_headers: Headers) -> None:
    flow = client.get(
        "/api/v1/tenants/demo/call_flows/Hoofdroute", headers=admin_headers
    ).get_json()
    flow["steps"][5]["ring_time"] = 25
    response = client.patch(
        "/api/v1/tenants/demo/call_flows/Hoofdroute",
        json={"steps": flow["steps"]},
        headers=admin_headers,
    )
    assert response.status_code == 200
    event = audit_events(client, admin_headers)[0]
    assert event["object_type"] == "call_flows"
    assert "steps" in event["changes"]


def test_sound_upload_measures_the_audio(client: FlaskClient, admin_headers: Headers) -> None:
    audio = (DEMO_FILE.parent / "sounds" / "Welkom.mp3").read_bytes()
    response = client.put(
        "/api/v1/tenants/demo/sounds/Nieuw.mp3",
        data=audio,
        headers={**admin_headers, "Content-Type": "audio/mpeg"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    bad = client.put(
        "/api/v1/tenants/demo/sounds/Kapot.mp3",
        data=b"not audio",
        headers={**admin_headers, "Content-Type": "audio/mpeg"},
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["problems"][0]["path"].startswith("sounds[")


def test_replacing_a_sounds_audio_is_audited(client: FlaskClient, admin_headers: Headers) -> None:
    other_audio = (DEMO_FILE.parent / "sounds" / "Gesloten.mp3").read_bytes()
    response = client.put(
        "/api/v1/tenants/demo/sounds/Welkom.mp3",
        data=other_audio,
        headers={**admin_headers, "Content-Type": "audio/mpeg"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    event = audit_events(client, admin_headers)[0]
    assert (event["action"], event["object_type"], event["object_key"]) == (
        "update",
        "sounds",
        "Welkom.mp3",
    )
    old, new = event["changes"]["audio"]
    assert old != new


@pytest.mark.parametrize("name", [".", ".."])
def test_a_sound_name_that_is_a_folder_is_refused(
    client: FlaskClient, admin_headers: Headers, name: str
) -> None:
    # Exported as sounds/<name>: "." or ".." would be the folder itself, and the export fail.
    audio = (DEMO_FILE.parent / "sounds" / "Welkom.mp3").read_bytes()
    response = client.put(
        f"/api/v1/tenants/demo/sounds/{name}",
        data=audio,
        headers={**admin_headers, "Content-Type": "audio/mpeg"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["problems"][0]["path"] == "name"


def test_tenant_create_update_export_delete(client: FlaskClient, admin_headers: Headers) -> None:
    body = {"name": "acme", "sip_domain": "acme.sip.example.net"}
    assert client.post("/api/v1/tenants", json=body, headers=admin_headers).status_code == 201
    assert client.post("/api/v1/tenants", json=body, headers=admin_headers).status_code == 409
    patched = client.patch("/api/v1/tenants/acme", json={"language": "en"}, headers=admin_headers)
    assert patched.get_json()["language"] == "en"
    exported = client.get("/api/v1/tenants/acme/document?format=yaml", headers=admin_headers)
    assert "sip_domain: acme.sip.example.net" in exported.get_data(as_text=True)
    assert client.delete("/api/v1/tenants/acme", headers=admin_headers).status_code == 204
    assert client.get("/api/v1/tenants/acme", headers=admin_headers).status_code == 404


def test_whole_document_put_is_all_or_nothing(client: FlaskClient, admin_headers: Headers) -> None:
    text = client.get("/api/v1/tenants/demo/document?format=yaml", headers=admin_headers).get_data(
        as_text=True
    )
    broken = text.replace("ring_group: '*8500'", "ring_group: '*8501'")
    response = client.put(
        "/api/v1/tenants/demo/document",
        data=broken,
        headers={**admin_headers, "Content-Type": "application/yaml"},
    )
    assert response.status_code == 422
    assert "ring group *8501 does not exist" in response.get_data(as_text=True)
    after = client.get("/api/v1/tenants/demo/document?format=yaml", headers=admin_headers)
    assert after.get_data(as_text=True) == text


def test_openapi_describes_every_collection_and_resolves_its_references(
    client: FlaskClient,
) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/tenants/{tenant}/extensions/{key}" in document["paths"]
    schemas = document["components"]["schemas"]
    text = str(document)
    import re

    for reference in set(re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", text)):
        assert reference in schemas, reference


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_healthz(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_every_api_route_is_in_openapi(demo_app: Flask) -> None:
    from provisioner.http.openapi import openapi_document
    from provisioner.tenants.schema import COLLECTION_KEYS

    paths = openapi_document()["paths"]
    missing = []
    for rule in demo_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        template = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        expanded = (
            [template.replace("{collection}", name) for name in COLLECTION_KEYS]
            if "{collection}" in template
            else [template]
        )
        for path in expanded:
            if path.endswith("/secrets") and not any(
                path.startswith(f"/api/v1/tenants/{{tenant}}/{name}/")
                for name in SECRET_COLLECTIONS
            ):
                continue  # only collections with secrets have this path
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                if method.lower() not in paths.get(path, {}):
                    missing.append(f"{method} {path}")
    assert missing == []
