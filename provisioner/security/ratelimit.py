"""Rate limits on misses per source address: Redis when configured, in-process otherwise.

A miss is a request that did not earn a full answer (a bootstrap for a per-device name, a
failed proof, a name no phone asks for). After ``limit`` misses within ``window_seconds`` of
its first miss, the source is throttled until that window ends. With several workers, set
PROVISIONER_REDIS_URL so they share counts.

Asking whether a source is throttled happens on every phone request, misses only on a few, so
with Redis the question costs no round trip: each process keeps the set of throttled sources,
learnt from the counter that reaches the limit (published on a Redis channel by whichever
worker counts it) and, when the process starts watching, from the counters already there.
Until that watch is up, and whenever Redis fails, the counter is read instead.

Counting is the check that holds: ``hit`` adds the miss and answers the new count in one
atomic step (one round trip), and a caller whose miss is past the limit answers as throttled
(``over_limit``), so however many workers answer one source at once, at most ``limit`` of its
misses get a miss's answer. Where the work itself must be bounded (checking a sign-in token),
the attempt is counted before the work and ``forgive`` takes it back when it succeeds. With
PHONE_MISS_SEND_SECONDS above 0 the count is this process's estimate, not Redis's: the limit
then holds per process only.

Over 400 lines on purpose: the in-process and Redis limiters, the Protocol both answer and the
Redis watch are kept side by side, because the two limiters must keep the same rules (count,
then compare; the window runs from the first miss) and that is checked by reading them together.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, cast

from flask import Flask, current_app

from provisioner.process import process_id
from provisioner.security.redis_calls import RedisCalls, bulk, eval_prefix

EXTENSION_KEY = "provisioner.ratelimit"
ROUTERS_EXTENSION_KEY = "provisioner.ratelimit.routers"
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

    def throttled(self, key: str) -> bool:
        """True when ``key`` has used up its misses in this window."""

    def forgive(self, key: str) -> None:
        """Take back one miss of ``key`` counted in this window (an attempt that succeeded)."""


@functools.lru_cache(maxsize=16384)  # every phone request asks, a storm's addresses repeat
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
    return limiter.limit > 0 and limiter.throttled(key)


def over_limit(limiter: RateLimiter, count: int) -> bool:
    """True when the miss ``hit`` counted as ``count`` is past the limit: it gets the
    throttled answer, as if the source had been throttled before it asked."""
    return 0 < limiter.limit < count


def counted_within_limit(limiter: RateLimiter, key: str) -> bool:
    """Count an attempt before doing its work, in one atomic step; False when it is past the
    limit (the work is not done). ``forgive`` it when the attempt succeeds."""
    return not over_limit(limiter, limiter.hit(key))


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

    def throttled(self, key: str) -> bool:
        """True when ``key`` has used up its misses in its current window."""
        return self.count(key) >= self.limit

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

    def forgive(self, key: str) -> None:
        """Take back one miss of ``key`` while its window lasts."""
        now = self._clock()
        with self._lock:
            started, count = self._counts.get(key, (now, 0))
            if count > 0 and now - started < self._window:
                self._counts[key] = (started, count - 1)

    def _forget(self, now: float) -> None:
        expired = [
            key for key, (started, _) in self._counts.items() if now - started >= self._window
        ]
        for key in expired:
            del self._counts[key]
        while len(self._counts) > MEMORY_SOURCES:
            self._counts.pop(next(iter(self._counts)))


# Count one miss and answer the new count with the time its window has left, in one step
# (one command: cheaper for the client than a MULTI pipeline). The first miss sets the expiry.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""

_HIT_PREFIX = eval_prefix(_HIT_SCRIPT, 1, 1)

# Decrement a counter only while it lives (a DECR of an expired one would create it anew, with
# no expiry), and never below zero.
_FORGIVE_SCRIPT = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class RedisRateLimiter:
    """Per-key windows in Redis, shared by every worker; a window starts at the first miss.

    While Redis cannot be reached, misses are counted in this process instead (logged once a
    minute): phones keep booting after a Redis outage, and guessers are still throttled per
    worker.
    """

    def __init__(
        self,
        url: str,
        limit: int,
        window_seconds: int,
        prefix: str = "provisioner:misses",
        send_seconds: float = 0.0,
    ) -> None:
        import redis

        self.limit = limit
        self._window = max(window_seconds, 1)
        self._prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._fallback = MemoryRateLimiter(limit, window_seconds)
        self._forgive_script = self._redis.register_script(_FORGIVE_SCRIPT)
        # Each miss is one call on a phone's path: packed, on connections of its own
        # (redis-py's client object cost six times the call's own CPU).
        self._calls = RedisCalls(url)
        self._last_warning: float = -OUTAGE_WARNING_SECONDS
        self._watch = ThrottledWatch(url, prefix, self._warn)
        # send_seconds > 0: misses are counted here and sent in one pipeline that often,
        # from a thread, instead of a round trip each (see ``hit``).
        self._send_seconds = send_seconds
        self._unsent: dict[str, int] = {}
        # The counts Redis last answered for our keys, with when their windows end (monotonic).
        self._counted: dict[str, tuple[int, float]] = {}
        self._sender_pid = 0
        self._unsent_lock = threading.Lock()

    @property
    def watching(self) -> bool:
        """True once this process follows the throttled sources without asking Redis."""
        return self._watch.live

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    def count(self, key: str) -> int:
        """Misses of ``key`` in its current window (with those not sent yet)."""
        unsent = self._unsent.get(key, 0)
        try:
            value = self._redis.get(self._key(key))
        except self._errors as exc:
            self._warn(exc)
            return self._fallback.count(key)
        return (int(value) if value else 0) + unsent

    def throttled(self, key: str) -> bool:
        """True when ``key`` has used up its misses: from the watched set (no round trip)
        once this process watches, else from the counter; misses not sent yet count too."""
        known = self._watch.throttled(key, self.limit)
        if known is not None:
            estimate = self._last_count(key) + self._unsent.get(key, 0)
            return known or (self._send_seconds > 0 and estimate >= self.limit)
        return self.count(key) >= self.limit

    def _last_count(self, key: str) -> int:
        """What Redis last answered for ``key``, while its window lasts."""
        count, ends = self._counted.get(key, (0, 0.0))
        return count if ends > time.monotonic() else 0

    def hit(self, key: str) -> int:
        """Count one miss; the counter expires with its window. The miss that reaches the
        limit tells every process (the channel) how long the source stays throttled. With
        ``send_seconds``, the miss is sent with the others of that interval (the count
        returned is this process's estimate); else at once."""
        if self._send_seconds > 0:
            return self._queue_hit(key)
        command = _HIT_PREFIX + bulk(self._key(key).encode()) + bulk(b"%d" % self._window)
        try:
            count, remaining_ms = cast(list[int], self._calls.call(command))
        except self._errors as exc:
            self._warn(exc)
            return self._fallback.hit(key)
        if self.limit > 0 and int(count) >= self.limit:
            self._watch.announce(self._redis, key, int(remaining_ms))
        return int(count)

    def forgive(self, key: str) -> None:
        """Take back one miss: an unsent one, else in Redis (only while its counter lives:
        a decrement must never make a counter without an expiry)."""
        with self._unsent_lock:
            if self._unsent.get(key, 0) > 0:
                self._unsent[key] -= 1
                return
        try:
            self._forgive_script(keys=[self._key(key)])
        except self._errors as exc:
            self._warn(exc)
            self._fallback.forgive(key)

    def _queue_hit(self, key: str) -> int:
        if self._sender_pid != process_id():
            self._start_sender()
        with self._unsent_lock:
            self._unsent[key] = self._unsent.get(key, 0) + 1
            return self._last_count(key) + self._unsent[key]

    def _send(self, misses: dict[str, int]) -> dict[str, tuple[int, float]]:
        """Add ``misses`` to the counters in one pipeline (a transaction: a counter cannot
        expire between its creation and its increment, and so live on without an expiry);
        the new counts with when their windows end."""
        pipeline = self._redis.pipeline(transaction=True)
        for key, count in misses.items():
            name = self._key(key)
            # Create the counter with its expiry first, so a key never lives without one.
            pipeline.set(name, 0, ex=self._window, nx=True)
            pipeline.incrby(name, count)
            pipeline.pttl(name)
        try:
            answers = pipeline.execute()
        except self._errors as exc:
            self._warn(exc)
            ends = time.monotonic() + self._window
            return {
                key: (_hit_times(self._fallback, key, count), ends) for key, count in misses.items()
            }
        counts: dict[str, tuple[int, float]] = {}
        now = time.monotonic()
        for index, key in enumerate(misses):
            count, remaining_ms = int(answers[3 * index + 1]), int(answers[3 * index + 2])
            counts[key] = (count, now + max(remaining_ms, 0) / 1000)
            if self.limit > 0 and count >= self.limit:
                self._watch.announce(self._redis, key, remaining_ms)
        return counts

    def _start_sender(self) -> None:
        with self._unsent_lock:
            if self._sender_pid == process_id():
                return
            self._sender_pid = process_id()
            self._unsent, self._counted = {}, {}
        threading.Thread(target=self._send_queued, name="miss-sender", daemon=True).start()

    def _send_queued(self) -> None:
        """Every ``send_seconds``: send what was counted since (this process's thread)."""
        owner = process_id()
        while owner == process_id():
            time.sleep(self._send_seconds)
            with self._unsent_lock:
                misses = dict(self._unsent)  # still counted here until Redis has them
            if not misses:
                continue
            try:
                counts = self._send(misses)
            except Exception as exc:  # noqa: BLE001 - the thread must live on
                self._warn(exc)
                continue
            with self._unsent_lock:
                for key, sent in misses.items():
                    left = self._unsent.get(key, 0) - sent
                    if left > 0:
                        self._unsent[key] = left
                    else:
                        self._unsent.pop(key, None)
                if len(self._counted) > MEMORY_SOURCES:
                    self._counted = {}
                self._counted.update(counts)

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= OUTAGE_WARNING_SECONDS:
            self._last_warning = now
            logger.warning("rate limits counted in this process: Redis failed (%s)", error)


class ThrottledWatch:
    """This process's copy of the throttled sources, kept by a thread subscribed to the
    limiter's channel. The thread starts on the first question in each process (a server
    may fork workers after the app is made), subscribes, then reads the counters already at the
    limit, so no source throttled before or after it started is missed. ``throttled`` answers
    None (ask Redis) until then and while the subscription is down."""

    def __init__(self, url: str, prefix: str, warn: Callable[[Exception], None]) -> None:
        self._url = url
        self._channel = f"{prefix}:throttled"
        self._prefix = prefix
        self._warn = warn
        self._until: dict[str, float] = {}  # source key -> monotonic end of its throttling
        self._live = False
        self._owner_pid = 0
        self._lock = threading.Lock()

    @property
    def live(self) -> bool:
        """True while this process's copy is being kept."""
        return self._live and self._owner_pid == process_id()

    def throttled(self, key: str, limit: int) -> bool | None:
        """Whether ``key`` is throttled, or None while the watch is not up."""
        if self._owner_pid != process_id():
            self._start(limit)
        if not self._live:
            return None
        until = self._until.get(key)
        if until is None:
            return False
        if until > time.monotonic():
            return True
        self._until.pop(key, None)
        return False

    def announce(self, client: Any, key: str, remaining_ms: int) -> None:
        """``key`` reached the limit: note it here and tell the other processes."""
        self._note(key, remaining_ms)
        client.publish(self._channel, f"{max(remaining_ms, 0)} {key}")

    def _note(self, key: str, remaining_ms: int) -> None:
        with self._lock:
            if remaining_ms > 0:
                self._until[key] = time.monotonic() + remaining_ms / 1000
            if len(self._until) > MEMORY_SOURCES:
                now = time.monotonic()
                kept = [(until, name) for name, until in self._until.items() if until > now]
                kept.sort()  # beyond the bound, the soonest ending go first
                self._until = {name: until for until, name in kept[-MEMORY_SOURCES:]}

    def _start(self, limit: int) -> None:
        with self._lock:
            if self._owner_pid == process_id():
                return
            self._owner_pid = process_id()
            self._live = False
            self._until = {}
            thread = threading.Thread(
                target=self._run, args=(limit,), name="throttled-watch", daemon=True
            )
            thread.start()

    def _run(self, limit: int) -> None:
        """Subscribe and follow the channel; after a failure, wait and start again."""
        import redis

        owner = process_id()
        while owner == process_id():
            try:
                client = redis.Redis.from_url(self._url, socket_connect_timeout=2)
                subscriber = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                subscriber.subscribe(self._channel)
                subscriber.get_message(timeout=2)  # the subscription's confirmation
                self._load(client, limit)
                self._live = True
                for message in subscriber.listen():
                    self._receive(message)
            except Exception as exc:  # noqa: BLE001 - any failure: ask Redis until back up
                self._live = False
                self._warn(exc)
                time.sleep(1.0)

    def _load(self, client: Any, limit: int) -> None:
        """The counters already at the limit, with the time their windows have left."""
        counters = list(client.scan_iter(match=f"{self._prefix}:*", count=1000))
        for start in range(0, len(counters), 500):
            batch = counters[start : start + 500]
            pipeline = client.pipeline()
            for name in batch:
                pipeline.get(name)
                pipeline.pttl(name)
            values = pipeline.execute()
            for index, name in enumerate(batch):
                count, remaining = values[2 * index], values[2 * index + 1]
                if count is not None and int(count) >= limit > 0:
                    key = name.decode()[len(self._prefix) + 1 :]
                    self._note(key, int(remaining))

    def _receive(self, message: dict[str, Any]) -> None:
        remaining, _, key = bytes(message.get("data") or b"").decode().partition(" ")
        if key and remaining.isdigit():
            self._note(key, int(remaining))


def _hit_times(limiter: MemoryRateLimiter, key: str, times: int) -> int:
    count = 0
    for _ in range(times):
        count = limiter.hit(key)
    return count


def create_rate_limiter(
    redis_url: str | None,
    limit: int,
    window_seconds: int,
    prefix: str = "provisioner:misses",
    send_seconds: float = 0.0,
) -> RateLimiter:
    """Redis-backed when ``redis_url`` is set (misses sent every ``send_seconds``, or one
    by one), else in-process."""
    if redis_url:
        return RedisRateLimiter(redis_url, limit, window_seconds, prefix, send_seconds)
    return MemoryRateLimiter(limit, window_seconds)


def init_app(app: Flask) -> None:
    """Attach the phones' miss limiter (PHONE_MISS_LIMIT and _WINDOW_SECONDS) and the
    routers' (ZEROTOUCH_MISS_LIMIT and _WINDOW_SECONDS): counted apart, so an office's phones
    cannot use up its router's misses, nor a router its phones'."""
    prefix = str(app.config.get("RATE_LIMIT_PREFIX") or "provisioner:misses")
    app.extensions[EXTENSION_KEY] = create_rate_limiter(
        app.config.get("REDIS_URL"),
        int(app.config["PHONE_MISS_LIMIT"]),
        int(app.config["PHONE_MISS_WINDOW_SECONDS"]),
        prefix,
        float(app.config["PHONE_MISS_SEND_SECONDS"]),
    )
    app.extensions[ROUTERS_EXTENSION_KEY] = create_rate_limiter(
        app.config.get("REDIS_URL"),
        int(app.config["ZEROTOUCH_MISS_LIMIT"]),
        int(app.config["ZEROTOUCH_MISS_WINDOW_SECONDS"]),
        prefix + ":routers",
    )


def get_rate_limiter(app: Flask | None = None) -> RateLimiter:
    """The phones' miss limiter of ``app``, or of the current app."""
    limiter: RateLimiter = (app or current_app).extensions[EXTENSION_KEY]
    return limiter


def get_router_rate_limiter(app: Flask | None = None) -> RateLimiter:
    """The routers' miss limiter (``/z/``) of ``app``, or of the current app."""
    limiter: RateLimiter = (app or current_app).extensions[ROUTERS_EXTENSION_KEY]
    return limiter
