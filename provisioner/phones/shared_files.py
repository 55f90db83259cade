"""Paired phones' full files made once for every worker and every instance, kept in Redis.

A full file costs about 0.4 ms to make (the phone's secrets decrypted, its config built, the
vendor's template rendered): four times what answering it from memory costs. Each process
keeps the files it made (``answers.full_answers``), but a phone's requests land on any worker
of any instance, so without sharing a file is made once per worker and per instance, and
each copy carries its own ``issued_at``: other bytes, another ETag, another download.

With ``REDIS_URL`` set, a file made is put in Redis for ``PHONE_SHARED_FILE_SECONDS``, and a
worker that has not kept it looks there before making it (``GETEX``, Redis 6.2 or newer: each
look renews that time). Only the first to put it succeeds (``SET NX``); a worker that lost
that race serves the bytes that won, so every worker answers a phone with the same bytes.

- **Names tell nothing.** An entry is named by a keyed BLAKE2b of the file's key (the MAC,
  the tenant's revision, the secrets' ciphertexts, the firmware offered, the base URL: see
  ``authorize.FullFile``), the file name and what renders it (this package's source, the
  phone templates, lxml's version). Any change of those is a new name: a stale file is never
  served, only left to expire, and two releases side by side never serve each other's.
- **Values are sealed.** A file holds SIP and provisioning passwords, so it is encrypted
  with AES-GCM under a key derived from the instance's secrets key, its name as associated
  data: a value moved to another name, or altered, does not open.
- **Redis is a help, not a need.** Redis failing, or a value that does not open (the secrets
  key changed), is a miss: the file is made here, as without Redis. After a failure Redis is
  left alone for ``REST_SECONDS``, so a Redis that does not answer costs its timeout once per
  rest, not on each file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Hashable
from functools import cache
from pathlib import Path

from flask import Flask

from provisioner.security.redis_calls import RedisCalls, packed
from provisioner.security.secrets import load_keys
from provisioner.store.database import get_store

log = logging.getLogger(__name__)

EXTENSION_KEY = "provisioner.shared_files"
NAME_PREFIX = b"provisioner:file:"
NONCE_BYTES = 12  # AES-GCM's standard nonce
WARNING_SECONDS = 60.0  # a failing Redis is logged at most this often
REST_SECONDS = 5.0  # after a failure, files are made without asking Redis for this long


class SharedFiles:
    """Files in Redis under names derived from their keys, sealed (see the module docstring)."""

    def __init__(self, url: str, secrets_key: bytes, seconds: int) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        derived = hashlib.sha512(b"provisioner shared files " + secrets_key).digest()
        self._name_key, self._cipher = derived[:32], AESGCM(derived[32:])
        self._calls = RedisCalls(url)
        self._seconds = b"%d" % seconds
        self._last_warning = -WARNING_SECONDS
        self._rest_until = 0.0

    def name(self, key: Hashable) -> bytes:
        """The Redis name of the file with ``key`` (hashable parts with a stable ``repr``:
        text, numbers, None, tuples of them), as made by this package's code (its digest is
        made on the first name, not when a worker starts: reading the sources takes 15 ms)."""
        digest = hashlib.blake2b(repr(key).encode(), key=self._name_key, digest_size=20)
        digest.update(code_fingerprint())
        return NAME_PREFIX + digest.hexdigest().encode()

    def get(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The file kept in Redis for ``key`` (its time there renewed), else ``make()``'s, put
        there from now on (or the one another worker put there first). While Redis fails,
        and for ``REST_SECONDS`` after, files are made here without asking it."""
        if time.monotonic() < self._rest_until:
            return make()
        name, made = self.name(key), None
        try:
            kept = self._opened(
                name, self._calls.value(packed(b"GETEX", name, b"EX", self._seconds))
            )
            if kept is not None:
                return kept
            made = make()
            sealed = self._sealed(name, made)
            put = packed(b"SET", name, sealed, b"NX", b"EX", self._seconds)
            if self._calls.value(put) is None:  # another worker's went first: its bytes
                return self._opened(name, self._calls.value(packed(b"GET", name))) or made
            return made
        except self._calls.errors as exc:
            self._failed(exc)
            return make() if made is None else made

    def close(self) -> None:
        """Close the idle connections."""
        self._calls.close()

    def _failed(self, error: Exception) -> None:
        """Rest from Redis for a while (each call to a Redis that does not answer waits for
        its timeout); logged now and then."""
        now = time.monotonic()
        self._rest_until = now + REST_SECONDS
        if now - self._last_warning >= WARNING_SECONDS:
            self._last_warning = now
            log.warning("phone files made in each worker: Redis failed (%s)", error)

    def _sealed(self, name: bytes, plain: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._cipher.encrypt(nonce, plain, name)

    def _opened(self, name: bytes, sealed: bytes | None) -> bytes | None:
        """The file in ``sealed``; None when there is none or it does not open."""
        if sealed is None or len(sealed) <= NONCE_BYTES:
            return None
        from cryptography.exceptions import InvalidTag

        try:
            return self._cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], name)
        except InvalidTag:
            return None


@cache
def code_fingerprint() -> bytes:
    """A digest of what renders a file (once per process): this package's source, the phone
    templates (``PROVISIONER_PHONE_TEMPLATES``) and the lxml that fills them. A release, or a
    template changed, names its files differently."""
    from lxml import etree

    from provisioner.phones import xml

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.blake2b(repr(etree.LXML_VERSION).encode(), digest_size=16)
    for folder, pattern in ((package, "*.py"), (xml.TEMPLATES, "*")):
        for path in sorted(folder.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(folder)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.digest()


def shared_files(app: Flask) -> SharedFiles | None:
    """The app's shared files, or None when there is no Redis or sharing is off."""
    return app.extensions.get(EXTENSION_KEY)


def init_app(app: Flask) -> None:
    """Share files through Redis when ``REDIS_URL`` is set and ``PHONE_SHARED_FILE_SECONDS``
    is above 0."""
    url = app.config.get("REDIS_URL")
    seconds = int(app.config["PHONE_SHARED_FILE_SECONDS"])
    if not url or seconds <= 0:
        return
    first = load_keys(app.config.get("SECRETS_KEY"), app.config["SECRETS_KEY_FILE"])[0]
    shared = app.extensions[EXTENSION_KEY] = SharedFiles(url, first, seconds)
    get_store(app).on_dispose(shared.close)
