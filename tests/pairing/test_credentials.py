"""HTTP Digest and Basic checks, each refusal tested with an otherwise correct answer (a
response computed from the right password), so removing any one check fails a test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

import pytest

from provisioner.pairing import credentials
from provisioner.pairing.credentials import (
    NONCE_SECONDS,
    REALM,
    Verdict,
    answers_expired_nonce,
    check_authorization,
    new_nonce,
    verify_authorization,
)

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
    count: str = "00000001",
) -> str:
    """A Digest header as a client computes it (qop=auth) for the given values."""
    nonce = nonce or new_nonce(KEY)
    first, second = md5(f"{user}:{realm}:{password}"), md5(f"{method}:{uri}")
    response = md5(f"{first}:{nonce}:{count}:c0ffee:auth:{second}")
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'qop=auth, nc={count}, cnonce="c0ffee", response="{response}"'
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


def test_a_proven_digest_answer_carries_its_nonce_and_count_for_the_replay_check() -> None:
    nonce = new_nonce(KEY)
    proof = check_authorization(digest(nonce=nonce), "GET", PATH, USER, PASSWORD, KEY)
    assert proof.verdict is Verdict.PROVEN and proof.scheme == "digest"
    assert (proof.nonce, proof.count) == (nonce, 1)
    assert proof.nonce_expires_at == int(nonce.split(".")[0]) + NONCE_SECONDS


def test_a_correct_answer_to_an_expired_nonce_is_stale_and_a_wrong_one_refused() -> None:
    old = new_nonce(KEY, now=time.time() - NONCE_SECONDS - 5)
    right = check_authorization(digest(nonce=old), "GET", PATH, USER, PASSWORD, KEY)
    wrong = check_authorization(digest(nonce=old, password="x"), "GET", PATH, USER, PASSWORD, KEY)
    assert (right.verdict, wrong.verdict) == (Verdict.STALE, Verdict.REFUSED)
    assert answers_expired_nonce(digest(nonce=old), KEY)
    assert not answers_expired_nonce(digest(), KEY)
    assert not answers_expired_nonce(digest(nonce=new_nonce(b"x" * 32, now=1.0)), KEY)


@pytest.mark.parametrize("count", ["1", "0000000g", "000000001", "-0000001"])
def test_a_malformed_nonce_count_is_refused_even_when_the_response_matches_it(count: str) -> None:
    header = digest(count=count)
    assert check_authorization(header, "GET", PATH, USER, PASSWORD, KEY).verdict is Verdict.REFUSED
    assert (
        check_authorization(digest(count="0000000a"), "GET", PATH, USER, PASSWORD, KEY).count == 10
    )


def test_a_nonce_issued_before_the_blake2b_signatures_is_still_taken_a_forged_one_not() -> None:
    issued = f"{int(time.time())}.0123456789abcdef"
    legacy = hmac.new(KEY, issued.encode(), hashlib.sha256).hexdigest()[:32]
    proof = check_authorization(
        digest(nonce=f"{issued}.{legacy}"), "GET", PATH, USER, PASSWORD, KEY
    )
    assert proof.verdict is Verdict.PROVEN
    forged = f"{issued}.{'0' * 32}"
    refused = check_authorization(digest(nonce=forged), "GET", PATH, USER, PASSWORD, KEY)
    assert refused.verdict is Verdict.REFUSED


def test_an_answer_for_a_mac_without_credentials_is_checked_as_a_known_ones_is() -> None:
    """A made-up MAC is compared against stand-in credentials made once per process: its
    answer costs what a known MAC's does (the kept HA1 included), and guesses add nothing."""
    header = digest(user="805ec0999999")
    check_authorization(header, "GET", PATH, None, None, KEY)
    kept = credentials._first_hash.cache_info().currsize
    for _ in range(3):
        proof = check_authorization(header, "GET", PATH, None, None, KEY)
        assert proof.verdict is Verdict.REFUSED
    assert credentials._first_hash.cache_info().currsize == kept


def test_every_nonce_has_its_own_random_part_in_a_forked_child_too() -> None:
    def part(nonce: str) -> str:
        return nonce.split(".")[1]

    parts = {part(new_nonce(KEY, now=1_800_000_000)) for _ in range(10_000)}
    assert len(parts) == 10_000 and all(len(each) == 16 for each in parts)
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # a forked worker: its parts must not repeat what its parent goes on making
        os.write(writing, " ".join(part(new_nonce(KEY)) for _ in range(100)).encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        childs = set(pipe.read().split())
    os.waitpid(child, 0)
    parents = {part(new_nonce(KEY)) for _ in range(100)}
    assert len(childs) == 100 and not childs & parents and not childs & parts
