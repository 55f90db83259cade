"""A paired phone's full file is made once for every worker: kept in Redis, sealed under a
name that tells nothing, so every worker answers the phone with the same bytes; a value that
does not open, or a Redis that fails, is only a miss."""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet
from flask import Flask

from provisioner.phones.shared_files import (
    NAME_PREFIX,
    SharedFiles,
    code_fingerprint,
    shared_files,
)
from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.phones.conftest import pair, serve, sip_password
from tests.phones.http_client import digest_authorization, digest_challenge, fetch
from tests.phones.samples import SAMPLES
from tests.phones.test_boot import credentials
from tests.phones.test_replay import worker_settings
from tests.security.test_nonces import free_tcp_port, start_redis

REDIS_URL = "redis://127.0.0.1:6379/0"
# Gigaset's file carries the second it was made (RegStart): each worker's own copy differs.
GIGASET = next(sample for sample in SAMPLES if sample.vendor == "gigaset")
PATH = f"/p/a/{GIGASET.mac.upper()}.xml"


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[Flask, str, str]]:
    """Two apps of one instance sharing the database, the key and Redis, each served (on
    its own port, so the base URL phones are sent to is set, as behind one address)."""
    settings = worker_settings(tmp_path, "redis") | {"PHONE_BASE_URL": "http://127.0.0.1:8080"}
    first = make_app(tmp_path / "one", **settings)
    second = make_app(tmp_path / "two", **settings)
    import_demo(first)
    pair(first, GIGASET.mac, GIGASET.vendor, GIGASET.model)
    servers = [serve(first), serve(second)]
    yield first, servers[0][0], servers[1][0]
    for _, thread, server in servers:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)
    for app in (first, second):
        get_store(app).dispose()


def full_file(url: str, app: Flask) -> bytes:
    """The phone's file from the server at ``url``, fetched as the phone does (Digest)."""
    status, _, headers = fetch(url, PATH, GIGASET.user_agent)
    assert status == 401
    login = credentials(app, GIGASET.mac)
    header = digest_authorization(
        digest_challenge(headers), "GET", PATH, login["username"], login["password"]
    )
    status, body, _ = fetch(url, PATH, GIGASET.user_agent, headers={"Authorization": header})
    assert status == 200
    return body


def next_second(after: float) -> None:
    """Wait (at most a second) until the clock's second is past ``after``'s."""
    deadline = time.monotonic() + 2
    while int(time.time()) <= int(after) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_every_worker_answers_a_phone_with_the_same_bytes(
    two_workers: tuple[Flask, str, str],
) -> None:
    app, first_url, second_url = two_workers
    full_file(first_url, app)  # the first full file also makes the admin password: settled
    made_at = time.time()
    first = full_file(first_url, app)
    assert b'name="RegStart"' in first and sip_password(app).encode() in first
    next_second(made_at)  # the second worker would stamp its own copy with a later second
    assert full_file(second_url, app) == first
    assert full_file(first_url, app) == first


def test_a_change_is_a_new_file_for_every_worker(two_workers: tuple[Flask, str, str]) -> None:
    app, first_url, second_url = two_workers
    before = full_file(first_url, app)
    assert full_file(second_url, app) == before
    pair(app, GIGASET.mac, GIGASET.vendor, GIGASET.model, extension="241")  # moved to 241
    deadline = time.monotonic() + 5  # the other worker hears of the change (notices)
    answers = [full_file(url, app) for url in (first_url, second_url)]
    while answers[1] == before and time.monotonic() < deadline:
        time.sleep(0.05)
        answers[1] = full_file(second_url, app)
    assert answers[0] == answers[1] != before
    assert sip_password(app, "241").encode() in answers[0]


@pytest.fixture
def store_key() -> bytes:
    return Fernet.generate_key()


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(REDIS_URL)
    yield connection
    connection.close()


def made(body: bytes, log: list[bytes]) -> bytes:
    log.append(body)
    return body


def test_a_file_made_by_one_worker_is_taken_by_another(store_key: bytes) -> None:
    key = ("7c2f80aa0008", uuid.uuid4().hex)
    one, other = SharedFiles(REDIS_URL, store_key, 60), SharedFiles(REDIS_URL, store_key, 60)
    makes: list[bytes] = []
    assert one.get(key, lambda: made(b"<file one/>", makes)) == b"<file one/>"
    assert other.get(key, lambda: made(b"<file two/>", makes)) == b"<file one/>"
    assert makes == [b"<file one/>"]


def test_a_worker_that_loses_the_race_answers_with_the_winners_bytes(store_key: bytes) -> None:
    key = ("7c2f80aa0008", uuid.uuid4().hex)
    one, other = SharedFiles(REDIS_URL, store_key, 60), SharedFiles(REDIS_URL, store_key, 60)

    def made_while_the_other_puts_its_own() -> bytes:
        one.get(key, lambda: b"<file one/>")  # the other worker missed too, and put first
        return b"<file two/>"

    assert other.get(key, made_while_the_other_puts_its_own) == b"<file one/>"


def test_the_name_tells_nothing_and_the_value_is_sealed(
    store_key: bytes, client: redis.Redis
) -> None:
    mac, secret = "7c2f80aa0008", uuid.uuid4().hex.encode()
    shared = SharedFiles(REDIS_URL, store_key, 60)
    name = shared.name((mac, secret))
    shared.get((mac, secret), lambda: b"<password>" + secret + b"</password>")
    stored = client.get(name)
    ttl = client.ttl(name)
    assert stored is not None and secret not in stored and 0 < ttl <= 60
    assert name.startswith(NAME_PREFIX) and mac.encode() not in name and secret not in name


def test_a_value_that_does_not_open_is_a_miss(store_key: bytes, client: redis.Redis) -> None:
    shared = SharedFiles(REDIS_URL, store_key, 60)
    key, elsewhere = (uuid.uuid4().hex,), (uuid.uuid4().hex,)
    shared.get(key, lambda: b"<file of one phone/>")
    sealed = client.get(shared.name(key))
    assert sealed is not None
    client.set(shared.name(elsewhere), sealed)  # moved to another phone's name
    makes: list[bytes] = []
    assert shared.get(elsewhere, lambda: made(b"<its own/>", makes)) == b"<its own/>"
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    client.set(shared.name(key), altered)
    assert shared.get(key, lambda: made(b"<made again/>", makes)) == b"<made again/>"
    rotated = SharedFiles(REDIS_URL, Fernet.generate_key(), 60)  # another secrets key
    assert rotated.get(key, lambda: made(b"<other key/>", makes)) == b"<other key/>"
    assert makes == [b"<its own/>", b"<made again/>", b"<other key/>"]


def test_redis_failing_is_only_a_miss(store_key: bytes, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as listener:  # a port nothing listens on once closed
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    shared = SharedFiles(f"redis://127.0.0.1:{port}/0", store_key, 60)
    with caplog.at_level(logging.WARNING):
        assert shared.get(("a phone",), lambda: b"<made here/>") == b"<made here/>"
        assert shared.get(("a phone",), lambda: b"<made again/>") == b"<made again/>"
    warnings = [record for record in caplog.records if "Redis failed" in record.getMessage()]
    assert len(warnings) == 1  # logged now and then, not on every request


def test_a_redis_that_does_not_answer_is_left_alone_for_a_while(
    store_key: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each call to a Redis that takes connections and answers nothing waits for its
    timeout: paid once per rest, not on every file."""
    from provisioner.security import redis_calls

    monkeypatch.setattr(redis_calls, "SECONDS", 1)
    port = free_tcp_port()
    server = start_redis(port, tmp_path)
    try:
        shared = SharedFiles(f"redis://127.0.0.1:{port}/0", store_key, 60)
        assert shared.get(("a phone",), lambda: b"<one/>") == b"<one/>"  # a connection idle
        server.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        assert shared.get(("a phone", 2), lambda: b"<two/>") == b"<two/>"
        waited = time.monotonic() - started
        started = time.monotonic()
        for number in range(3, 20):
            assert shared.get(("a phone", number), lambda: b"<more/>") == b"<more/>"
        assert waited >= 1 and time.monotonic() - started < 0.5
    finally:
        server.send_signal(signal.SIGCONT)
        server.kill()
        server.wait(timeout=10)


def test_a_file_in_use_stays_shared(store_key: bytes, client: redis.Redis) -> None:
    key = (uuid.uuid4().hex,)
    one, other = SharedFiles(REDIS_URL, store_key, 60), SharedFiles(REDIS_URL, store_key, 60)
    one.get(key, lambda: b"<file/>")
    client.expire(one.name(key), 5)  # about to expire...
    assert other.get(key, lambda: b"<made again/>") == b"<file/>"
    assert client.ttl(one.name(key)) > 50  # ...and each look renews its time


def test_a_changed_template_names_files_anew(
    store_key: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provisioner.phones import xml

    copied = tmp_path / "templates"
    shutil.copytree(xml.TEMPLATES, copied)
    shipped = SharedFiles(REDIS_URL, store_key, 60).name(("a phone",))
    monkeypatch.setattr(xml, "TEMPLATES", copied)
    code_fingerprint.cache_clear()
    as_shipped = SharedFiles(REDIS_URL, store_key, 60).name(("a phone",))
    assert as_shipped == shipped  # the same templates elsewhere: the same names
    skeleton = copied / "gigaset" / "base.xml"
    skeleton.write_bytes(skeleton.read_bytes().replace(b"<", b"<!-- changed -->\n<", 1))
    code_fingerprint.cache_clear()
    assert SharedFiles(REDIS_URL, store_key, 60).name(("a phone",)) != as_shipped
    code_fingerprint.cache_clear()


def test_without_redis_or_with_sharing_off_files_stay_in_each_worker(tmp_path: Path) -> None:
    assert shared_files(make_app(tmp_path / "plain")) is None
    off = make_app(tmp_path / "off", REDIS_URL=REDIS_URL, PHONE_SHARED_FILE_SECONDS=0)
    assert shared_files(off) is None
    on = make_app(tmp_path / "on", REDIS_URL=REDIS_URL)
    assert isinstance(shared_files(on), SharedFiles)
    for app in (off, on):
        get_store(app).dispose()
