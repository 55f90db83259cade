"""Rate limits on misses per source address: Redis when configured, in-process otherwise.

A miss is a request that did not earn a full answer (a bootstrap for a per-device name, a
failed proof, a name no phone asks for). After ``limit`` misses within ``window_seconds`` of
its first miss, the source is throttled until that window ends. With several workers, set
PROVISIONER_REDIS_URL so they share counts.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from flask import Flask, current_app

EXTENSION_KEY = "provisioner.ratelimit"
OUTAGE_WARNING_SECONDS = 60
logger = logging.getLogger(__name__)
# The in-process table forgets the oldest windows beyond this many sources (bounded memory).
MEMORY_SOURCES = 100_000


class RateLimiter(Protocol):
    """Counts misses per key in fixed windows."""

    limit: int

    def count(self, key: str) -> int:
        """Misses of ``key`` in the current window."""

    def hit(self, key: str) -> int:
        """Count one miss of ``key``; return the new count."""


def source_key(address: str) -> str:
    """The key an address's misses count under: an IPv4 address, or the /64 of an IPv6 one
    (one IPv6 host may send from a whole /64, so a per-address count would never fill)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def is_throttled(limiter: RateLimiter, key: str) -> bool:
    """True when ``key`` has used up its misses in this window (0 disables the limit)."""
    return limiter.limit > 0 and limiter.count(key) >= limiter.limit


class MemoryRateLimiter:
    """Per-key windows in a dict, for one process; a key's window starts at its first miss."""

    def __init__(
        self, limit: int, window_seconds: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self._window = max(window_seconds, 1)
        self._clock = clock
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def count(self, key: str) -> int:
        """Misses of ``key`` in its current window."""
        now = self._clock()
        with self._lock:
            started, count = self._counts.get(key, (now, 0))
        return count if now - started < self._window else 0

    def hit(self, key: str) -> int:
        """Count one miss; a key whose window has passed starts a new one."""
        now = self._clock()
        with self._lock:
            started, count = self._counts.get(key, (now, 0))
            if now - started >= self._window:
                started, count = now, 0
            self._counts[key] = (started, count + 1)
            if len(self._counts) > MEMORY_SOURCES:
                self._forget(now)
        return count + 1

    def _forget(self, now: float) -> None:
        expired = [
            key for key, (started, _) in self._counts.items() if now - started >= self._window
        ]
        for key in expired:
            del self._counts[key]
        while len(self._counts) > MEMORY_SOURCES:
            self._counts.pop(next(iter(self._counts)))


class RedisRateLimiter:
    """Per-key windows in Redis, shared by every worker; a window starts at the first miss.

    While Redis cannot be reached, misses are counted in this process instead (logged once a
    minute): phones keep booting after a Redis outage, and guessers are still throttled per
    worker.
    """

    def __init__(
        self, url: str, limit: int, window_seconds: int, prefix: str = "provisioner:misses"
    ) -> None:
        import redis

        self.limit = limit
        self._window = max(window_seconds, 1)
        self._prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._fallback = MemoryRateLimiter(limit, window_seconds)
        self._last_warning: float = -OUTAGE_WARNING_SECONDS

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    def count(self, key: str) -> int:
        """Misses of ``key`` in its current window."""
        try:
            value = self._redis.get(self._key(key))
        except self._errors as exc:
            self._warn(exc)
            return self._fallback.count(key)
        return int(value) if value else 0

    def hit(self, key: str) -> int:
        """Count one miss; the counter expires with its window."""
        name = self._key(key)
        pipeline = self._redis.pipeline()
        # Create the counter with its expiry first, so a key never lives without one.
        pipeline.set(name, 0, ex=self._window, nx=True)
        pipeline.incr(name)
        try:
            _, count = pipeline.execute()
        except self._errors as exc:
            self._warn(exc)
            return self._fallback.hit(key)
        return int(count)

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= OUTAGE_WARNING_SECONDS:
            self._last_warning = now
            logger.warning("rate limits counted in this process: Redis failed (%s)", error)


def create_rate_limiter(
    redis_url: str | None, limit: int, window_seconds: int, prefix: str = "provisioner:misses"
) -> RateLimiter:
    """Redis-backed when ``redis_url`` is set, else in-process."""
    if redis_url:
        return RedisRateLimiter(redis_url, limit, window_seconds, prefix)
    return MemoryRateLimiter(limit, window_seconds)


def init_app(app: Flask) -> None:
    """Attach the phones' miss limiter, configured by PHONE_MISS_LIMIT and _WINDOW_SECONDS."""
    app.extensions[EXTENSION_KEY] = create_rate_limiter(
        app.config.get("REDIS_URL"),
        int(app.config["PHONE_MISS_LIMIT"]),
        int(app.config["PHONE_MISS_WINDOW_SECONDS"]),
        str(app.config.get("RATE_LIMIT_PREFIX") or "provisioner:misses"),
    )


def get_rate_limiter(app: Flask | None = None) -> RateLimiter:
    """The miss limiter of ``app``, or of the current app."""
    limiter: RateLimiter = (app or current_app).extensions[EXTENSION_KEY]
    return limiter
