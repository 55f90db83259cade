"""Digest nonce use, kept where every worker sees it, so a captured header cannot be replayed.

A nonce we issued may be answered several times, each time with a higher nonce count (``nc``,
RFC 7616 section 3.4); an answer whose count is not above the highest one seen is a replay.
The highest count lives in Redis when ``REDIS_URL`` is set (while Redis cannot be reached,
in the database instead, logged once a minute), else in the database: both are shared by every
worker, on SQLite and PostgreSQL. Only correct answers are recorded, so guessing writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from provisioner.pairing.credentials import Proof
from provisioner.security.redis_calls import RedisCalls, bulk, eval_prefix
from provisioner.store.database import Store, get_store
from provisioner.store.models import DigestNonceUse

EXTENSION_KEY = "provisioner.nonces"
OUTAGE_WARNING_SECONDS = 60
# The database store deletes expired nonces once in this many uses (bounded table, cheap uses).
CLEANUP_EVERY = 200
logger = logging.getLogger(__name__)


class NonceStore(Protocol):
    """Remembers the highest count answered per nonce."""

    def use(self, nonce: str, count: int, expires_at: int) -> bool:
        """Record ``count`` for ``nonce`` (kept until ``expires_at``, Unix seconds); False
        when an answer with this count or a higher one was seen before: a replay."""

    def begin_use(self, nonce: str, count: int, expires_at: int) -> Callable[[], bool]:
        """``use``, started: the function returned gives its answer (call it once). Work
        done in between overlaps the store's round trip."""


class DatabaseNonceStore:
    """Nonce uses in the store's table: one conditional upsert per use, so two workers
    answering the same header at once cannot both accept it (the database orders them)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._uses = 0

    def use(self, nonce: str, count: int, expires_at: int) -> bool:
        """Insert the nonce, or raise its count; False when the count is not higher."""
        dialect = postgresql if self._store.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(DigestNonceUse).values(
            nonce=nonce, last_count=count, expires_at=expires_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=[DigestNonceUse.nonce],
            set_={"last_count": statement.excluded.last_count},
            where=DigestNonceUse.last_count < statement.excluded.last_count,
        )
        with self._store.transaction() as session:
            # RETURNING names the row only when it was inserted or its count raised.
            accepted = session.execute(statement.returning(DigestNonceUse.nonce)).first()
            self._uses += 1
            if self._uses % CLEANUP_EVERY == 0:
                expired = DigestNonceUse.expires_at < int(time.time())
                session.execute(delete(DigestNonceUse).where(expired))
        return accepted is not None

    def begin_use(self, nonce: str, count: int, expires_at: int) -> Callable[[], bool]:
        """``use`` done at once (a transaction of its own cannot be left open)."""
        return partial(bool, self.use(nonce, count, expires_at))


# Compare and raise in one step inside Redis, so two workers cannot both accept one count.
_USE_SCRIPT = """
local last = redis.call('GET', KEYS[1])
if last and tonumber(last) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


# EVAL, the script and its key count never change: packed once.
_USE_PREFIX = eval_prefix(_USE_SCRIPT, 1, 2)


def packed_use(key: str, count: int, seconds: int) -> bytes:
    """The script's call for ``key`` as Redis reads it; redis-py's general packer costs more
    CPU than the round trip, and this command is the same every time but for three values."""
    return _USE_PREFIX + bulk(key.encode()) + bulk(b"%d" % count) + bulk(b"%d" % seconds)


class RedisNonceStore:
    """Nonce uses in Redis, each key expiring with its nonce; the database while Redis fails.

    Every use is on a phone's path, so the script goes as one packed command through
    ``RedisCalls`` (``provisioner.security.redis_calls``): redis-py's client object cost
    several times the CPU of the round trip itself (bench/nonce_store.py). A connection that
    was idle gets one retry on a new connection when it fails (Redis restarted, or something
    dropped the idle connection): falling back then would put a use in the database that
    Redis never hears of. After a real outage, uses must also be new in the database for as
    long as a nonce used during it could be answered again, so none of them can be replayed
    once Redis is back."""

    def __init__(self, url: str, fallback: NonceStore, prefix: str = "provisioner:nonces") -> None:
        self._calls = RedisCalls(url)
        self._fallback = fallback
        self._prefix = prefix
        self._database_until = 0.0  # uses made in the database may be answered until then
        self._last_warning: float = -OUTAGE_WARNING_SECONDS

    def use(self, nonce: str, count: int, expires_at: int) -> bool:
        """Raise the nonce's count in Redis; False when the count is not higher."""
        return self.begin_use(nonce, count, expires_at)()

    def begin_use(self, nonce: str, count: int, expires_at: int) -> Callable[[], bool]:
        """Send the script's call on an idle connection now; the function returned reads its
        answer (or makes the call on a new connection, when there was no idle one or it
        turned out dropped) and falls back to the database as ``use`` does."""
        seconds = max(int(expires_at - time.time()), 1)
        command = packed_use(f"{self._prefix}:{nonce}", count, seconds)
        sent = self._calls.begin(command)
        return partial(self._verdict, command, sent, nonce, count, expires_at)

    def _verdict(self, command: bytes, sent: Any, nonce: str, count: int, expires_at: int) -> bool:
        try:
            accepted = self._calls.finish(command, sent) == 1
        except self._calls.errors as exc:
            self._warn(exc)
            self._database_until = max(self._database_until, float(expires_at))
            return self._fallback.use(nonce, count, expires_at)
        if accepted and time.time() < self._database_until:
            return self._fallback.use(nonce, count, expires_at)
        return accepted

    def close(self) -> None:
        """Close the idle connections (those in use are closed by their failure or kept)."""
        self._calls.close()

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= OUTAGE_WARNING_SECONDS:
            self._last_warning = now
            logger.warning("Digest nonce uses kept in the database: Redis failed (%s)", error)


def create_nonce_store(redis_url: str | None, store: Store) -> NonceStore:
    """Redis-backed when ``redis_url`` is set (the database as its fallback), else the database."""
    database = DatabaseNonceStore(store)
    if redis_url:
        return RedisNonceStore(redis_url, database)
    return database


def init_app(app: Flask) -> None:
    """Attach the app's nonce store (after the store: the database is its home or fallback)."""
    store = get_store(app)
    nonces = app.extensions[EXTENSION_KEY] = create_nonce_store(app.config.get("REDIS_URL"), store)
    if isinstance(nonces, RedisNonceStore):
        store.on_dispose(nonces.close)


def get_nonce_store(app: Flask | None = None) -> NonceStore:
    """The nonce store of ``app``, or of the current app."""
    nonces: NonceStore = (app or current_app).extensions[EXTENSION_KEY]
    return nonces


def is_new_answer(app: Flask, proof: Proof) -> bool:
    """True the first time a proven Digest answer's nonce is used with its count."""
    return begin_new_answer(app, proof)()


def begin_new_answer(app: Flask, proof: Proof) -> Callable[[], bool]:
    """``is_new_answer``, started: the function returned gives the verdict (call it once)."""
    return get_nonce_store(app).begin_use(proof.nonce, proof.count, proof.nonce_expires_at)
