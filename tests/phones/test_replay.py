"""Digest replay: a captured Authorization header, sent again, earns a challenge, not the
file; nonce use is kept where every worker sees it (the database, or Redis when configured)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import update

from provisioner import metrics
from provisioner.metrics import TALLY
from provisioner.pairing.credentials import new_nonce
from provisioner.phones.authorize import nonce_key
from provisioner.store import get_store
from provisioner.store.models import DeviceCredential
from tests.conftest import import_demo, make_app
from tests.phones.conftest import pair, serve, sip_password
from tests.phones.http_client import digest_authorization, digest_challenge, digest_for_nonce, fetch
from tests.phones.samples import SAMPLES
from tests.phones.test_boot import credentials

SAMPLE = SAMPLES[0]
PATH = f"/p/a/{SAMPLE.mac}.cfg"


def worker_settings(tmp_path: Path, kind: str) -> dict[str, object]:
    """What two workers of one instance share: the database, the key, Redis when asked."""
    settings: dict[str, object] = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "SECRETS_KEY": Fernet.generate_key().decode(),
    }
    if kind == "redis":
        settings |= {
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "RATE_LIMIT_PREFIX": f"test:{uuid.uuid4().hex}",
        }
    return settings


@pytest.fixture(params=["database", "redis"])
def two_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two apps of one instance (as two workers of the production command are), each on its
    own HTTP server."""
    settings = worker_settings(tmp_path, request.param)
    first = make_app(tmp_path / "one", **settings)
    second = make_app(tmp_path / "two", **settings)
    import_demo(first)
    pair(first, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    servers = [serve(first), serve(second)]
    request.node.apps = (first, second)
    yield servers[0][0], servers[1][0]
    for _, thread, server in servers:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)
    for app in (first, second):
        get_store(app).dispose()


def answer_challenge(url: str, app: Flask, count: int = 1) -> str:
    """Ask without credentials, then compute the Authorization header as the phone would."""
    status, _, headers = fetch(url, PATH, SAMPLE.user_agent)
    assert status == 401
    login = credentials(app, SAMPLE.mac)
    return digest_authorization(
        digest_challenge(headers), "GET", PATH, login["username"], login["password"], count
    )


def test_a_replayed_digest_header_gets_a_challenge_not_the_file(
    request: pytest.FixtureRequest, two_workers: tuple[str, str]
) -> None:
    first_url, second_url = two_workers
    app = request.node.apps[0]
    header = answer_challenge(first_url, app)
    status, body, _ = fetch(first_url, PATH, SAMPLE.user_agent, headers={"Authorization": header})
    assert status == 200 and sip_password(app).encode() in body
    released = secrets_released()
    for url in (first_url, second_url):  # the same worker, and another one
        status, body, headers = fetch(
            url, PATH, SAMPLE.user_agent, headers={"Authorization": header}
        )
        assert (status, body) == (401, b"")
        assert "nonce=" in digest_challenge(headers) and "stale" not in digest_challenge(headers)
    assert secrets_released() == released  # a replay releases, and counts, nothing


def secrets_released() -> float:
    """This process's count of secrets phones were given (both test workers run here)."""
    TALLY.flush()
    return float(metrics.secrets_released("phone")._value.get())


def test_a_nonce_may_be_used_again_with_a_higher_count_only(
    request: pytest.FixtureRequest, two_workers: tuple[str, str]
) -> None:
    first_url, second_url = two_workers
    app = request.node.apps[0]
    header = answer_challenge(first_url, app, count=1)
    nonce = header.split('nonce="')[1].split('"')[0]
    login = credentials(app, SAMPLE.mac)

    def with_count(count: int) -> int:
        authorization = digest_for_nonce(nonce, "GET", PATH, **login, count=count)
        return fetch(second_url, PATH, SAMPLE.user_agent, headers={"Authorization": authorization})[
            0
        ]

    assert [with_count(count) for count in (1, 2, 2, 1, 5, 3)] == [200, 200, 401, 401, 200, 401]


def test_an_old_nonce_answered_correctly_is_challenged_as_stale(
    phone_app: Flask, live_server: str
) -> None:
    pair(phone_app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    login = credentials(phone_app, SAMPLE.mac)
    old = new_nonce(nonce_key(phone_app), now=time.time() - 3600)
    header = digest_for_nonce(old, "GET", PATH, **login)
    status, body, headers = fetch(
        live_server, PATH, SAMPLE.user_agent, headers={"Authorization": header}
    )
    assert (status, body) == (401, b"")
    challenge = digest_challenge(headers)
    assert "stale=true" in challenge and old not in challenge


def test_phones_challenged_in_the_same_second_each_get_their_file(
    phone_app: Flask, live_server: str
) -> None:
    """A boot storm: many phones get their challenge at once. Each nonce is its own, so one
    phone's first answer never makes another's look like a replay."""
    phones = [SAMPLE.for_mac(f"805ec0ab{index:04x}") for index in range(4)]
    challenges = []
    for phone in phones:
        pair(phone_app, phone.mac, phone.vendor, phone.model)
        status, _, headers = fetch(live_server, f"/p/a/{phone.mac}.cfg", phone.user_agent)
        challenges.append(digest_challenge(headers))
    assert len(set(challenges)) == len(phones)
    for phone, challenge in zip(phones, challenges, strict=True):
        login = credentials(phone_app, phone.mac)
        path = f"/p/a/{phone.mac}.cfg"
        header = digest_authorization(challenge, "GET", path, login["username"], login["password"])
        status, _, _ = fetch(live_server, path, phone.user_agent, headers={"Authorization": header})
        assert status == 200, phone.mac


def test_a_replayed_header_does_not_bind_a_first_use_window_opened_since(
    request: pytest.FixtureRequest, two_workers: tuple[str, str]
) -> None:
    """The replay verdict comes back from the nonce store after the rest is decided, but
    before anything is written: a replay must not bind an open window to its address."""
    first_url, second_url = two_workers
    app = request.node.apps[0]
    header = answer_challenge(first_url, app)
    status, _, _ = fetch(first_url, PATH, SAMPLE.user_agent, headers={"Authorization": header})
    assert status == 200
    with get_store(app).transaction() as session:  # open again and unbound, as a re-pair leaves it
        session.execute(
            update(DeviceCredential)
            .where(DeviceCredential.mac == SAMPLE.mac)
            .values(window_source=None, window_until=datetime.now(UTC) + timedelta(minutes=30))
        )
    status, _, _ = fetch(second_url, PATH, SAMPLE.user_agent, headers={"Authorization": header})
    assert status == 401
    with get_store(app).reading() as session:
        credential = session.query(DeviceCredential).filter_by(mac=SAMPLE.mac).one()
        assert credential.window_source is None
