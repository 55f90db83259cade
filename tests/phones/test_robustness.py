"""Bad input on the phone path gets a plain answer, never a crash or a secret."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from provisioner.pairing.credentials import new_nonce, nonce_is_fresh, verify_authorization

KEY = b"k" * 32


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64!!!",
        "Basic " + "QQ==",  # "A": no colon
        "Basic 4pyT",  # not the right user
        'Digest username="805ec0123456"',
        'Digest username="x", realm="provisioner", nonce="1.abc", uri="/p/a/x", response="0"',
        'Digest username="x", realm="other", nonce="1.abc", uri="/p/a/x", response="0"',
        "Bearer prov_token",
        "Digest " + "a=" * 5000,
        "",
    ],
)
def test_malformed_authorization_is_refused(header: str) -> None:
    assert not verify_authorization(header, "GET", "/p/a/x", "805ec0123456", "secret", KEY)


def test_nonces_expire_and_cannot_be_forged() -> None:
    nonce = new_nonce(KEY, now=1000)
    assert nonce_is_fresh(KEY, nonce, now=1100)
    assert not nonce_is_fresh(KEY, nonce, now=2000)
    assert not nonce_is_fresh(b"other" * 7, nonce, now=1100)
    assert not nonce_is_fresh(KEY, "1000.forged", now=1100)


@pytest.mark.parametrize(
    "path",
    [
        "/p/..%2f..%2fetc%2fpasswd",
        "/p/%00.cfg",
        "/p/" + "a" * 5000 + ".cfg",
        "/p/caf%C3%A9.cfg",
        "/p/805ec0123456.cfg%0d%0aX-Injected:%201",
        "/p/a/",
    ],
)
def test_odd_paths_are_plain_not_found(client: FlaskClient, path: str) -> None:
    answer = client.get(path, headers={"Authorization": "Basic !!!"})
    assert answer.status_code in (404, 401)
    assert "X-Injected" not in answer.headers


def test_bad_authorization_on_the_authenticated_path_is_a_challenge(client: FlaskClient) -> None:
    answer = client.get("/p/a/805ec0123456.cfg", headers={"Authorization": "Digest ,,,=\x7f"})
    assert answer.status_code == 401 and answer.data == b""
