"""A NUL byte (which PostgreSQL text cannot hold) in a path, a query or a body is refused
with 404 or 400, never a 500 with a traceback; tested on PostgreSQL, where it used to fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from provisioner.store import get_store
from tests.conftest import import_demo, make_app, token_for


@pytest.fixture
def postgres_app(tmp_path: Path, postgres_url: str) -> Iterator[Flask]:
    app = make_app(tmp_path, postgres_url)
    import_demo(app)
    yield app
    get_store(app).dispose()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/z/HE7A1B2C3D4%00/secret/config.rsc", 404),
        ("/z/HE7A%00/se%00cret/x", 404),
        ("/api/v1/tenants/de%00mo", 404),
        ("/api/v1/tenants/de%00mo/extensions", 404),
        ("/api/v1/tenants/demo/extensions/24%000", 404),
        ("/api/v1/tenants/demo/phones/805ec0%00123456/timeline", 404),
        ("/t/site/de%00mo/Kantoor", 404),
        ("/p/805ec0123456%00.cfg", 404),
    ],
)
def test_a_nul_byte_in_a_path_is_not_found(postgres_app: Flask, path: str, status: int) -> None:
    client = postgres_app.test_client()
    headers = {"Authorization": f"Bearer {token_for(postgres_app, 'admin')}"}
    answer = client.get(path, headers=headers)
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert b"Traceback" not in answer.data


@pytest.mark.postgres
def test_a_nul_byte_in_a_body_or_query_is_a_bad_request(postgres_app: Flask) -> None:
    client = postgres_app.test_client()
    headers = {"Authorization": f"Bearer {token_for(postgres_app, 'admin')}"}
    created = client.post(
        "/api/v1/tenants/demo/extensions",
        json={"number": "299", "name": "Ni\u0000ls"},
        headers=headers,
    )
    assert created.status_code == 400, created.get_data(as_text=True)
    assert "NUL character" in created.json["error"]["message"]
    assert client.get("/api/v1/tenants/demo/extensions/299", headers=headers).status_code == 404
    listed = client.get("/api/v1/audit?tenant=de%00mo", headers=headers)
    assert listed.status_code == 400, listed.get_data(as_text=True)  # a query is no path
