"""Benchmark: the CPU a Digest nonce use costs the serving process, against the floor.

    .venv/bin/python bench/nonce_store.py [--uses 3000] [--redis redis://127.0.0.1:6379/0]

Every answered Digest challenge records its nonce's use in Redis (``RedisNonceStore.use``),
on the phone's path. Measured in one run, as this process's CPU time per use (the best of 5
rounds, so other work on the machine counts least):
- the floor: a bare PING on one redis-py connection (one round trip, nothing else);
- our store;
- the way it was done until 2026-12-06: redis-py's client object with the script registered.
Prints microseconds and each one's ratio to the floor; compare ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
import redis  # noqa: E402
from redis.connection import Connection, ConnectionPool  # noqa: E402

from provisioner.security.nonces import _USE_SCRIPT, RedisNonceStore  # noqa: E402

ROUNDS = 5


class NoFallback:
    """The database store's place: the bench must not measure it, so a Redis failure stops it."""

    def use(self, nonce: str, count: int, expires_at: int) -> bool:
        raise SystemExit("Redis failed during the bench")


def cpu_per_call(call: Callable[[str], object], uses: int) -> float:
    """The best round's CPU microseconds per call, each call with a fresh key."""
    best = float("inf")
    for _ in range(ROUNDS):
        keys = [f"bench:nonces:{uuid.uuid4().hex}" for _ in range(uses)]
        started = time.process_time()
        for key in keys:
            call(key)
        best = min(best, (time.process_time() - started) / uses * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uses", type=int, default=3000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    options = parser.parse_args()
    expires = int(time.time()) + 60
    settings = ConnectionPool.from_url(options.redis).connection_kwargs
    floor_connection: Any = Connection(**settings)  # type: ignore[no-untyped-call]

    def ping(_: str) -> object:
        floor_connection.send_command("PING")
        return floor_connection.read_response()

    ours = RedisNonceStore(options.redis, NoFallback(), prefix="bench:nonces")
    client = redis.Redis.from_url(options.redis, socket_timeout=2, socket_connect_timeout=2)
    script = client.register_script(_USE_SCRIPT)

    def before(key: str) -> object:
        return script(keys=[key], args=[1, 60])

    floor = cpu_per_call(ping, options.uses)
    rows = [
        ("PING (the floor)", floor),
        ("RedisNonceStore.use", cpu_per_call(lambda key: ours.use(key, 1, expires), options.uses)),
        ("redis-py client + script", cpu_per_call(before, options.uses)),
    ]
    print(f"{'what':28} {'CPU us/use':>10} {'x floor':>8}")
    for name, micros in rows:
        print(f"{name:28} {micros:10.1f} {micros / floor:8.2f}")
    ours.close()
    floor_connection.disconnect()
    client.close()


if __name__ == "__main__":
    main()
