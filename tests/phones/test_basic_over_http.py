"""Basic credentials carry the password in clear text: over plain HTTP they are refused with a
Digest challenge (and logged) unless ALLOW_BASIC_OVER_HTTP is set; over TLS (the WSGI scheme,
or X-Forwarded-Proto from a trusted proxy) they work; Digest works over plain HTTP."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.phones.conftest import pair, serve, sip_password
from tests.phones.http_client import fetch
from tests.phones.samples import SAMPLES
from tests.phones.test_boot import credentials

SAMPLE = SAMPLES[0]
PATH = f"/p/a/{SAMPLE.mac}.cfg"
POLY_MAC = "64167f000042"


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Flask, str]]:
    """A paired phone's app (settings by indirect parametrization), served."""
    app = make_app(tmp_path, **getattr(request, "param", {}))
    import_demo(app)
    pair(app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    pair(app, POLY_MAC, "polycom", "VVX450", "241")
    url, thread, server = serve(app)
    yield app, url
    server.shutdown()  # type: ignore[attr-defined]
    thread.join(timeout=10)
    get_store(app).dispose()


def basic(app: Flask, mac: str = SAMPLE.mac) -> dict[str, str]:
    login = credentials(app, mac)
    token = base64.b64encode(f"{login['username']}:{login['password']}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def schemes(headers: object) -> list[str]:
    return [value.split(" ")[0] for value in headers.get_all("WWW-Authenticate") or []]  # type: ignore[attr-defined]


def test_basic_over_plain_http_is_refused_with_a_digest_challenge_and_logged(
    served: tuple[Flask, str], caplog: pytest.LogCaptureFixture
) -> None:
    app, url = served
    status, body, headers = fetch(url, PATH, SAMPLE.user_agent, headers=basic(app))
    assert (status, body) == (401, b"")
    assert schemes(headers) == ["Digest"]
    assert sip_password(app).encode() not in body
    assert "Basic credentials over plain HTTP refused" in caplog.text
    assert "ALLOW_BASIC_OVER_HTTP" in caplog.text
    # The challenge without credentials offers Digest only too.
    assert schemes(fetch(url, PATH, SAMPLE.user_agent)[2]) == ["Digest"]


def test_an_upload_with_basic_over_plain_http_is_refused(served: tuple[Flask, str]) -> None:
    app, url = served
    upload = f"/p/a/{POLY_MAC}-app.log"
    status, _, headers = fetch(url, upload, headers=basic(app, POLY_MAC), method="PUT", body=b"x")
    assert status == 401 and schemes(headers) == ["Digest"]


@pytest.mark.parametrize("served", [{"ALLOW_BASIC_OVER_HTTP": True}], indirect=True)
def test_basic_over_plain_http_works_where_the_setting_allows_it(served: tuple[Flask, str]) -> None:
    app, url = served
    status, body, _ = fetch(url, PATH, SAMPLE.user_agent, headers=basic(app))
    assert status == 200 and sip_password(app).encode() in body
    assert schemes(fetch(url, PATH, SAMPLE.user_agent)[2]) == ["Digest", "Basic"]


@pytest.mark.parametrize("served", [{"PROXY_HOPS": 1}], indirect=True)
def test_basic_behind_a_tls_proxy_works(served: tuple[Flask, str]) -> None:
    app, url = served
    over_tls = {**basic(app), "X-Forwarded-Proto": "https"}
    status, body, _ = fetch(url, PATH, SAMPLE.user_agent, headers=over_tls)
    assert status == 200 and sip_password(app).encode() in body
    # The proxy's plain HTTP is still plain HTTP.
    plain = {**basic(app), "X-Forwarded-Proto": "http"}
    assert fetch(url, PATH, SAMPLE.user_agent, headers=plain)[0] == 401


def test_basic_over_tls_in_the_wsgi_scheme_works(tmp_path: Path) -> None:
    """A server that terminates TLS itself says so in wsgi.url_scheme."""
    app = make_app(tmp_path)
    import_demo(app)
    pair(app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    client = app.test_client()
    headers = {**basic(app), "User-Agent": SAMPLE.user_agent}
    assert client.get(PATH, headers=headers).status_code == 401
    answer = client.get(PATH, headers=headers, base_url="https://localhost")
    assert answer.status_code == 200 and sip_password(app).encode() in answer.data
    get_store(app).dispose()
