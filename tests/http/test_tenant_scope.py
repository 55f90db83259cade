"""Tokens limited to tenants, checked over every operation of the OpenAPI document: on a
route with a tenant, another tenant gets exactly what a tenant that does not exist gets; a
route that concerns every tenant is refused unless it keeps to the token's tenants itself
(listed below, each checked). A new route is in the document (another test sees to that),
so it cannot be forgotten here."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from provisioner.http.openapi import openapi_document
from provisioner.security.tokens import create_token
from provisioner.store import get_store
from tests.http.technicians.test_pages import csrf

OTHER_PHONE = "001565000777"
OTHER = {
    "name": "other",
    "sip_domain": "other.example.net",
    "sites": [{"name": "HQ"}],
    "extensions": [{"number": "100", "name": "Jan"}],
    "phones": [{"mac": OTHER_PHONE, "lines": ["100"]}],
}
# Example values for the path's other parameters (the tenant is checked before any of them).
PARAMETERS = {"key": "100", "mac": OTHER_PHONE, "name": "gw", "rollout_id": "1"}
# Routes without a tenant that keep to the token's tenants themselves (tested below).
FILTERED = {("get", "/api/v1/tenants"), ("get", "/api/v1/audit"), ("get", "/api/v1/diagnose/{mac}")}
LIMITED = "limited to some tenants"


def _token(app: Flask, role: str, tenants: list[str] | None) -> dict[str, str]:
    with get_store(app).transaction() as session:
        token = create_token(session, role, f"{role}-scoped", tenants)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def two_tenants(client: FlaskClient, demo_app: Flask, admin_headers: dict[str, str]) -> Flask:
    assert client.post("/api/v1/tenants", json=OTHER, headers=admin_headers).status_code == 201
    return demo_app


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) of the document that needs a token."""
    found = []
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                if "401" in operation.get("responses", {}):
                    found.append((method, path))
    return found


def _url(path: str, tenant: str) -> str:
    filled = path.replace("{tenant}", tenant)
    return re.sub(r"\{(\w+)\}", lambda part: PARAMETERS[part[1]], filled)


def _answer(client: FlaskClient, method: str, url: str, headers: dict[str, str]) -> Any:
    body = {} if method in {"post", "put", "patch"} else None
    return client.open(url, method=method.upper(), json=body, headers=headers)


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda value: str(value))
def test_a_limited_token_sees_no_other_tenant_on_any_route(
    client: FlaskClient, two_tenants: Flask, method: str, path: str
) -> None:
    limited = _token(two_tenants, "admin", ["demo"])
    if "{tenant}" in path:
        other = _answer(client, method, _url(path, "other"), limited)
        missing = _answer(client, method, _url(path, "nosuch"), limited)
        assert other.status_code == missing.status_code == 404
        assert other.get_data(as_text=True).replace("other", "nosuch") == missing.get_data(
            as_text=True
        )
    elif (method, path) not in FILTERED:
        refused = _answer(client, method, _url(path, "demo"), limited)
        assert refused.status_code == 403, refused.get_data(as_text=True)
        assert LIMITED in refused.json["error"]["message"]


def test_the_tenant_is_refused_by_the_scope_not_by_its_absence(
    client: FlaskClient, two_tenants: Flask, admin_headers: dict[str, str]
) -> None:
    """The same reads with a token for every tenant find "other": the 404 above is the
    scope's, and a limited token still reads its own tenant."""
    limited = _token(two_tenants, "admin", ["demo"])
    for method, path in _operations():
        if method != "get" or "{tenant}" not in path or "{" in path.replace("{tenant}", ""):
            continue
        assert client.get(_url(path, "other"), headers=admin_headers).status_code == 200, path
        assert client.get(_url(path, "demo"), headers=limited).status_code == 200, path


def test_the_routes_that_keep_to_the_tokens_tenants(
    client: FlaskClient, two_tenants: Flask
) -> None:
    limited = _token(two_tenants, "admin", ["demo"])
    assert client.get("/api/v1/tenants", headers=limited).json["items"] == ["demo"]
    events = client.get("/api/v1/audit?limit=1000", headers=limited).json["items"]
    assert events and {event["tenant"] for event in events} == {"demo"}
    assert client.get("/api/v1/audit?tenant=other", headers=limited).json["items"] == []
    other_phone = client.get(f"/api/v1/diagnose/{OTHER_PHONE}", headers=limited)
    unknown = client.get("/api/v1/diagnose/805ec0999999", headers=limited)
    assert other_phone.status_code == unknown.status_code == 403
    assert other_phone.json == unknown.json
    assert client.get("/api/v1/diagnose/805ec0123456", headers=limited).status_code == 200


def test_a_token_is_limited_only_to_tenants_that_exist(two_tenants: Flask) -> None:
    from provisioner.errors import NotFound

    with get_store(two_tenants).transaction() as session, pytest.raises(NotFound):
        create_token(session, "admin", "typo", ["deom"])


def test_the_technicians_page_keeps_to_the_tokens_tenants(
    client: FlaskClient, two_tenants: Flask
) -> None:
    limited = _token(two_tenants, "technician", ["other"])["Authorization"].split()[1]
    answer = client.post("/t/sign-in", data={"token": limited, "csrf_token": csrf(client)})
    assert answer.status_code == 302
    sites = client.get("/t/").get_data(as_text=True)
    assert "/t/site/other/HQ/" in sites and "/t/site/demo/" not in sites
    demo = client.get("/t/site/demo/Kantoor%20Amsterdam/")
    missing = client.get("/t/site/nosuch/Kantoor%20Amsterdam/")
    assert demo.status_code == missing.status_code == 404
    assert demo.get_data(as_text=True).replace("/demo/", "/nosuch/") == missing.get_data(
        as_text=True
    )  # the page links back to the path asked for
    assert client.get("/t/site/other/HQ/").status_code == 200
    # What the demo's phone announced at boot is not told to a technician of another customer.
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"
    assert client.get("/p/805ec0123456.cfg", headers={"User-Agent": agent}).status_code == 200
    announced = "pair/announced?mac=805ec0123456"
    assert client.get(f"/t/site/other/HQ/{announced}").get_json()["model"] == ""
    assert client.get(f"/t/site/demo/Kantoor%20Amsterdam/{announced}").status_code == 404
