"""Digest nonce uses: a count is accepted once and only upwards, in the database (SQLite and
PostgreSQL, also when two workers race) and in Redis (the database while Redis is down)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from provisioner.security import nonces
from provisioner.security.nonces import DatabaseNonceStore, NonceStore, RedisNonceStore
from provisioner.store.database import Store
from provisioner.store.migrate import upgrade
from provisioner.store.models import DigestNonceUse


@pytest.fixture
def store(database_url: str) -> Store:
    migrated = Store(database_url)
    upgrade(migrated.engine)
    return migrated


def later(seconds: int = 300) -> int:
    return int(time.time()) + seconds


def counts_accepted(nonce_store: NonceStore, nonce: str, counts: list[int]) -> list[bool]:
    return [nonce_store.use(nonce, count, later()) for count in counts]


def test_database_accepts_each_count_once_and_only_upwards(store: Store) -> None:
    database = DatabaseNonceStore(store)
    assert counts_accepted(database, "1.a", [1, 1, 2, 0, 2, 7]) == [
        True,
        False,
        True,
        False,
        False,
        True,
    ]
    assert counts_accepted(database, "1.b", [1]) == [True]  # another nonce has its own count
    store.dispose()


def test_two_workers_racing_with_one_answer_cannot_both_accept_it(store: Store) -> None:
    """Two stores on one database (two workers), eight threads each sending the same count."""
    other = Store(store.url)
    workers = [DatabaseNonceStore(store), DatabaseNonceStore(other)]
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def answer(worker: NonceStore) -> None:
        barrier.wait(timeout=10)
        results.append(worker.use("2.race", 1, later()))

    threads = [threading.Thread(target=answer, args=(workers[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * 7 + [True]
    other.dispose()
    store.dispose()


def test_expired_nonces_are_deleted_from_the_database(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nonces, "CLEANUP_EVERY", 3)
    database = DatabaseNonceStore(store)
    database.use("3.old", 1, later(-10))
    database.use("3.new", 1, later())
    database.use("3.newer", 1, later())  # the third use deletes what has expired
    with store.reading() as session:
        kept = set(session.scalars(select(DigestNonceUse.nonce)))
    assert kept == {"3.new", "3.newer"}
    store.dispose()


def test_redis_accepts_each_count_once_and_expires_with_the_nonce(store: Store) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    redis_store = RedisNonceStore("redis://127.0.0.1:6379/0", DatabaseNonceStore(store), prefix)
    assert counts_accepted(redis_store, "4.a", [1, 1, 3, 2]) == [True, False, True, False]
    import redis

    ttl = redis.Redis.from_url("redis://127.0.0.1:6379/0").ttl(f"{prefix}:4.a")
    assert 290 <= ttl <= 300
    with store.reading() as session:  # Redis was up: nothing went to the database
        assert session.scalar(select(func.count()).select_from(DigestNonceUse)) == 0
    redis_store.close()
    store.dispose()


def test_while_redis_is_down_nonce_uses_are_kept_in_the_shared_database(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    down = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    first, second = (RedisNonceStore(down, DatabaseNonceStore(store)) for _ in range(2))
    assert first.use("5.a", 1, later())
    assert not second.use("5.a", 1, later())  # another worker still sees the use
    assert "Redis failed" in caplog.text
    store.dispose()


def start_redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    """A Redis server of this test's own on ``port`` (nothing kept on disk), once it answers."""
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise AssertionError("redis-server did not start")


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnRedis:
    """A Redis server of the test's own, and a nonce store on it (the database its fallback)."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.port, self.folder = free_tcp_port(), folder
        self.server = start_redis(self.port, folder)
        self.nonces = RedisNonceStore(f"redis://127.0.0.1:{self.port}/0", DatabaseNonceStore(store))

    def stop(self) -> None:
        self.server.kill()
        self.server.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.server = start_redis(self.port, self.folder)


@pytest.fixture
def own_redis(store: Store, tmp_path: Path) -> Iterator[OwnRedis]:
    redis_server = OwnRedis(store, tmp_path)
    yield redis_server
    redis_server.stop()
    redis_server.nonces.close()
    store.dispose()


def uses_in_the_database(store: Store) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(DigestNonceUse)) or 0)


def test_a_restart_while_a_connection_is_idle_loses_no_use(
    own_redis: OwnRedis, store: Store
) -> None:
    assert counts_accepted(own_redis.nonces, "6.a", [1]) == [True]  # leaves a connection idle
    own_redis.restart()
    assert counts_accepted(own_redis.nonces, "6.b", [1, 1]) == [True, False]
    assert uses_in_the_database(store) == 0  # Redis held every use: nothing fell back


def test_a_use_made_while_redis_was_down_cannot_be_replayed_once_it_is_back(
    own_redis: OwnRedis,
) -> None:
    own_redis.stop()
    assert counts_accepted(own_redis.nonces, "7.a", [1]) == [True]  # in the database
    own_redis.restart()
    assert counts_accepted(own_redis.nonces, "7.a", [1, 2]) == [False, True]
    assert counts_accepted(own_redis.nonces, "7.b", [1, 1]) == [True, False]


def test_threads_racing_with_one_answer_in_redis_accept_it_once(store: Store) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    redis_store = RedisNonceStore("redis://127.0.0.1:6379/0", DatabaseNonceStore(store), prefix)
    start = threading.Barrier(8)
    accepted: list[bool] = []

    def answer() -> None:
        start.wait(timeout=10)
        accepted.append(redis_store.use("8.a", 1, later()))

    threads = [threading.Thread(target=answer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(accepted) == [False] * 7 + [True]
    redis_store.close()
    store.dispose()


def test_the_packed_call_is_the_command_redis_py_would_send() -> None:
    from redis.connection import Connection

    packed = b"".join(Connection().pack_command("EVAL", nonces._USE_SCRIPT, 1, "k:1", 12, 300))
    assert nonces.packed_use("k:1", 12, 300) == packed


def test_uses_begun_before_any_is_read_get_each_its_own_verdict(store: Store) -> None:
    """A request sends its use, does its other work, then reads the verdict: several can be
    on their way at once, and be read in any order."""
    prefix = f"test:{uuid.uuid4().hex}"
    redis_store = RedisNonceStore("redis://127.0.0.1:6379/0", DatabaseNonceStore(store), prefix)
    uses = [("9.a", 1), ("9.a", 1), ("9.b", 1), ("9.a", 2), ("9.c", 1)]
    try:
        assert counts_accepted(redis_store, "9.warm", [1]) == [True]  # one idle connection
        begun = [redis_store.begin_use(nonce, count, later()) for nonce, count in uses]
        verdicts = [verdict() for verdict in reversed(begun)][::-1]
    finally:
        redis_store.close()
    # The first went out at once on the idle connection, so Redis took it first; the others
    # went out as they were read, last first: 9.a's count 2 before its second count 1.
    assert verdicts == [True, False, True, True, True]
    store.dispose()


def test_a_use_sent_on_a_connection_redis_has_closed_is_made_again_on_a_new_one(
    own_redis: OwnRedis, store: Store
) -> None:
    assert counts_accepted(own_redis.nonces, "10.warm", [1]) == [True]  # one idle connection
    with redis.Redis(port=own_redis.port) as admin:  # Redis drops it (a timeout, a restart)
        admin.client_kill_filter(_type="normal", skipme=True)
    verdict = own_redis.nonces.begin_use("10.a", 1, later())  # sent on the dropped connection
    assert verdict() is True  # made again on a new one
    assert counts_accepted(own_redis.nonces, "10.a", [1, 2]) == [False, True]
    assert uses_in_the_database(store) == 0  # Redis held every use: nothing fell back
