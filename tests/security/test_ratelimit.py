"""Miss counting per source: in-process with a controllable clock, and in the real Redis."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Callable

import pytest

from provisioner.security.ratelimit import (
    MemoryRateLimiter,
    RedisRateLimiter,
    counted_within_limit,
    create_rate_limiter,
    is_throttled,
    over_limit,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_limiter_counts_per_key_and_forgets_old_windows() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(limit=3, window_seconds=60, clock=clock)
    for _ in range(3):
        assert not is_throttled(limiter, "192.0.2.1")
        limiter.hit("192.0.2.1")
    assert is_throttled(limiter, "192.0.2.1")
    assert not is_throttled(limiter, "192.0.2.2")
    clock.now += 60
    assert not is_throttled(limiter, "192.0.2.1")
    assert limiter.hit("192.0.2.1") == 1


def test_memory_limiter_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from provisioner.security import ratelimit

    monkeypatch.setattr(ratelimit, "MEMORY_SOURCES", 10)
    clock = Clock()
    limiter = MemoryRateLimiter(limit=3, window_seconds=60, clock=clock)
    for index in range(10):
        limiter.hit(f"old-{index}")
    clock.now += 60
    for index in range(5):
        limiter.hit(f"new-{index}")
    assert len(limiter._counts) <= 10
    assert limiter.count("new-4") == 1


def test_redis_limiter_shares_counts_between_instances() -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    first = RedisRateLimiter("redis://127.0.0.1:6379/0", 2, 60, prefix)
    second = RedisRateLimiter("redis://127.0.0.1:6379/0", 2, 60, prefix)
    first.hit("198.51.100.7")
    assert second.count("198.51.100.7") == 1
    second.hit("198.51.100.7")
    assert is_throttled(first, "198.51.100.7")
    assert not is_throttled(first, "198.51.100.8")


def test_redis_limiter_window_expires() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:6379/0", 1, 1, f"test:{uuid.uuid4().hex}")
    limiter.hit("203.0.113.9")
    assert is_throttled(limiter, "203.0.113.9")
    deadline = time.monotonic() + 3
    while is_throttled(limiter, "203.0.113.9") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not is_throttled(limiter, "203.0.113.9")


def test_factory_picks_redis_only_with_a_url() -> None:
    assert isinstance(create_rate_limiter(None, 5, 60), MemoryRateLimiter)
    assert isinstance(create_rate_limiter("redis://127.0.0.1:6379/0", 5, 60), RedisRateLimiter)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:0:1::7", "2001:db8:0:1::/64"),
        ("2001:db8:0:1:ffff:1:2:3", "2001:db8:0:1::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # IPv4 seen through a dual-stack socket
        ("not-an-address", "not-an-address"),
    ],
)
def test_source_key(address: str, key: str) -> None:
    from provisioner.security.ratelimit import source_key

    assert source_key(address) == key


def test_redis_outage_falls_back_to_counting_in_this_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{closed_port}/0", 2, 60, "test:outage")
    assert [limiter.hit("198.51.100.9") for _ in range(3)] == [1, 2, 3]
    assert is_throttled(limiter, "198.51.100.9")
    assert not is_throttled(limiter, "198.51.100.10")
    warnings = [record for record in caplog.records if "Redis failed" in record.getMessage()]
    assert len(warnings) == 1


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_redis_limiter_answers_throttling_from_its_watch_without_asking_redis() -> None:
    import socket

    import redis

    prefix = f"test:{uuid.uuid4().hex}"
    url = "redis://127.0.0.1:6379/0"
    first = RedisRateLimiter(url, 2, 60, prefix)
    second = RedisRateLimiter(url, 2, 60, prefix)
    second.hit("198.51.100.20")
    second.hit("198.51.100.20")  # at the limit before the first process watches: loaded
    assert not is_throttled(first, "198.51.100.21")  # the first question starts the watch
    assert wait_until(lambda: first.watching)
    for _ in range(2):
        second.hit("198.51.100.22")  # reaches the limit while the first watches: published
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    # From here a question to Redis would fail (and count nothing): only the watch can know.
    first._redis = redis.Redis(port=closed_port, socket_connect_timeout=1)
    assert is_throttled(first, "198.51.100.20")
    assert wait_until(lambda: is_throttled(first, "198.51.100.22"))
    assert not is_throttled(first, "198.51.100.23")


def test_redis_limiter_watch_forgets_a_source_when_its_window_ends() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:6379/0", 1, 1, f"test:{uuid.uuid4().hex}")
    assert not is_throttled(limiter, "203.0.113.30")
    assert wait_until(lambda: limiter.watching)
    limiter.hit("203.0.113.30")
    assert is_throttled(limiter, "203.0.113.30")
    assert wait_until(lambda: not is_throttled(limiter, "203.0.113.30"), seconds=3)


def test_redis_limiter_sends_misses_in_batches_that_every_process_sees() -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    url = "redis://127.0.0.1:6379/0"
    batching = RedisRateLimiter(url, 3, 60, prefix, send_seconds=0.05)
    other = RedisRateLimiter(url, 3, 60, prefix)
    assert not is_throttled(other, "198.51.100.40")  # the other process starts watching
    assert wait_until(lambda: other.watching)
    assert [batching.hit("198.51.100.40") for _ in range(3)] == [1, 2, 3]  # no round trip
    assert is_throttled(batching, "198.51.100.40")  # this process knows at once
    assert wait_until(lambda: other.count("198.51.100.40") == 3)  # sent in one go
    assert wait_until(lambda: is_throttled(other, "198.51.100.40"))  # and announced
    assert not is_throttled(other, "198.51.100.41")


def test_a_source_throttled_with_batched_misses_is_free_when_its_window_ends() -> None:
    limiter = RedisRateLimiter(
        "redis://127.0.0.1:6379/0", 2, 1, f"test:{uuid.uuid4().hex}", send_seconds=0.05
    )
    assert not is_throttled(limiter, "203.0.113.50")
    assert wait_until(lambda: limiter.watching)
    limiter.hit("203.0.113.50")
    limiter.hit("203.0.113.50")
    assert is_throttled(limiter, "203.0.113.50")
    assert wait_until(lambda: not is_throttled(limiter, "203.0.113.50"), seconds=4)


def test_a_miss_past_the_limit_is_told_by_its_own_count() -> None:
    limiter = MemoryRateLimiter(limit=2, window_seconds=60)
    assert [over_limit(limiter, limiter.hit("192.0.2.1")) for _ in range(3)] == [
        False,
        False,
        True,
    ]
    assert not over_limit(MemoryRateLimiter(limit=0, window_seconds=60), 5)  # 0: no limit


def test_forgiven_tries_do_not_count_and_an_ended_window_is_not_made_anew() -> None:
    clock = Clock()
    memory = MemoryRateLimiter(limit=2, window_seconds=60, clock=clock)
    assert counted_within_limit(memory, "192.0.2.1")
    memory.forgive("192.0.2.1")
    assert memory.count("192.0.2.1") == 0
    memory.forgive("192.0.2.1")  # never below zero
    assert memory.hit("192.0.2.1") == 1
    prefix = f"test:{uuid.uuid4().hex}"
    redis_limiter = RedisRateLimiter("redis://127.0.0.1:6379/0", 2, 1, prefix)
    redis_limiter.hit("198.51.100.7")
    redis_limiter.hit("198.51.100.7")
    redis_limiter.forgive("198.51.100.7")
    assert redis_limiter.count("198.51.100.7") == 1
    redis_limiter.forgive("198.51.100.8")  # no counter: none is made (it would never expire)
    assert redis_limiter._redis.exists(f"{prefix}:198.51.100.8") == 0


def _answered_misses(prefix: str, limit: int, tries: int, start: object) -> int:
    """One worker's share of a guesser's misses: how many got a miss's answer."""
    limiter = RedisRateLimiter("redis://127.0.0.1:6379/0", limit, 60, prefix)
    start.wait()  # type: ignore[attr-defined]
    answered = 0
    for _ in range(tries):
        if not is_throttled(limiter, "203.0.113.5") and counted_within_limit(
            limiter, "203.0.113.5"
        ):
            answered += 1
    return answered


def test_processes_counting_one_address_at_once_answer_exactly_the_limit() -> None:
    prefix, workers, limit = f"test:{uuid.uuid4().hex}", 4, 100
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(workers) as pool:
        start = manager.Barrier(workers)
        shares = pool.starmap(
            _answered_misses, [(prefix, limit, 60, start) for _ in range(workers)]
        )
    assert sum(shares) == limit
