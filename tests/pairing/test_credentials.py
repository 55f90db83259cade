"""HTTP Digest and Basic checks, each refusal tested with an otherwise correct answer (a
response computed from the right password), so removing any one check fails a test."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest

from provisioner.pairing.credentials import REALM, new_nonce, verify_authorization

KEY = b"k" * 32
USER, PASSWORD, PATH = "805ec0123456", "RightPassword123", "/p/a/805ec0123456.cfg"


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest(
    realm: str = REALM,
    uri: str = PATH,
    nonce: str | None = None,
    method: str = "GET",
    password: str = PASSWORD,
    user: str = USER,
) -> str:
    """A Digest header as a client computes it (qop=auth) for the given values."""
    nonce = nonce or new_nonce(KEY)
    first, second = md5(f"{user}:{realm}:{password}"), md5(f"{method}:{uri}")
    response = md5(f"{first}:{nonce}:00000001:c0ffee:auth:{second}")
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'qop=auth, nc=00000001, cnonce="c0ffee", response="{response}"'
    )


def test_a_correct_digest_answer_passes() -> None:
    assert verify_authorization(digest(), "GET", PATH, USER, PASSWORD, KEY)


@pytest.mark.parametrize(
    "header",
    [
        digest(realm="other"),
        digest(uri="/p/a/805ec0999999.cfg"),  # another phone's file
        digest(nonce=new_nonce(KEY, now=time.time() - 3600)),  # stale
        digest(nonce=new_nonce(b"x" * 32)),  # not ours
        digest(method="PUT"),  # made for an upload
        digest(password="WrongPassword1"),
        digest(user="805ec0999999"),
    ],
    ids=["realm", "uri", "stale", "foreign-nonce", "method", "password", "user"],
)
def test_each_wrong_part_is_refused(header: str) -> None:
    assert not verify_authorization(header, "GET", PATH, USER, PASSWORD, KEY)


def test_basic_needs_both_user_and_password() -> None:
    def basic(user: str, password: str) -> str:
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    assert verify_authorization(basic(USER, PASSWORD), "GET", PATH, USER, PASSWORD, KEY)
    assert not verify_authorization(basic("other", PASSWORD), "GET", PATH, USER, PASSWORD, KEY)
    assert not verify_authorization(basic(USER, "nope"), "GET", PATH, USER, PASSWORD, KEY)


def test_unknown_device_never_passes_even_with_empty_credentials() -> None:
    """No credentials stored (an unknown MAC): a random password stands in, nothing matches."""
    empty = "Basic " + base64.b64encode(b":").decode()
    assert not verify_authorization(empty, "GET", PATH, None, None, KEY)
    assert not verify_authorization(digest(user="", password=""), "GET", PATH, None, None, KEY)
