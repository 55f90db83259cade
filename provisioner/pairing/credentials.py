"""Per-device provisioning credentials: generation, the first-use window, HTTP Basic and Digest.

Digest nonces are a timestamp and its HMAC, so several workers accept each other's nonces;
they expire after ``NONCE_SECONDS``. Whether an answer was seen before (a replay) is kept by
``provisioner.security.nonces``, shared by the workers.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import itertools
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from provisioner.phones.encryption import new_file_key
from provisioner.security.secrets import SecretBox, new_password
from provisioner.store.models import DeviceCredential, Tenant
from provisioner.store.notices import TENANT_OPTION

REALM = "provisioner"
NONCE_SECONDS = 300
FIRST_HASHES_KEPT = 50_000
# Compared against when a MAC has no credentials: made once per process (secret, never sent),
# so a made-up MAC's answer is checked exactly as a known one's is, HA1 kept included.
_STAND_IN_USER = secrets.token_hex(6)
_STAND_IN_PASSWORD = secrets.token_urlsafe(18)
_DIGEST_NEEDED = frozenset({"username", "realm", "nonce", "uri", "response"})
_NONCE_COUNT = re.compile("[0-9a-fA-F]{8}")
_DIGEST_PARTS = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


class WindowState(StrEnum):
    """What the first-use window allows for one request."""

    CLOSED = "closed"
    ALLOWED = "allowed"
    CONFLICT = "conflict"  # another address already used it: an alarm


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` with UTC attached (SQLite returns naive datetimes)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def find_credential(session: Session, mac: str) -> DeviceCredential | None:
    """The credentials of the phone with ``mac``, if it is paired."""
    return session.scalar(select(DeviceCredential).where(DeviceCredential.mac == mac))


def issue_credential(
    session: Session, box: SecretBox, tenant_id: int, mac: str, window_minutes: int
) -> DeviceCredential:
    """Credentials for ``mac`` and a fresh first-use window.

    A device that has credentials in this tenant keeps them: a deployed phone sends them on
    ``/p/a/`` at every boot, so replacing them on a re-pair would lock it out. They die only by
    unpairing (or a swap), which erases them.
    """
    credential = find_credential(session, mac)
    if credential is None or credential.tenant_id != tenant_id:
        credential = credential or DeviceCredential(mac=mac)
        credential.password_encrypted = box.encrypt(new_password(24))
        credential.file_key_encrypted = box.encrypt(new_file_key())
    credential.tenant_id = tenant_id
    credential.username = mac
    credential.window_until = datetime.now(UTC) + timedelta(minutes=window_minutes)
    credential.window_source = None
    credential.first_used_at = None
    # The file key stays with the device as its credentials do, but is handed again: a
    # re-paired phone may have been reset, and an encrypted file it cannot read would
    # leave it without a configuration.
    credential.file_key_delivered_at = None
    session.add(credential)
    session.flush()
    return credential


def file_key_of(session: Session, box: SecretBox, credential: DeviceCredential) -> str:
    """The device's file key. Credentials made before file keys existed get one here, by a
    conditional UPDATE, so two requests at once agree on one key (one statement)."""
    stored = credential.file_key_encrypted
    if stored is None:
        where = DeviceCredential.id == credential.id
        session.execute(
            update(DeviceCredential)
            .where(where, DeviceCredential.file_key_encrypted.is_(None))
            .values(file_key_encrypted=box.encrypt(new_file_key()))
            .execution_options(synchronize_session=False, **{TENANT_OPTION: credential.tenant_id})
        )
        stored = session.scalar(select(DeviceCredential.file_key_encrypted).where(where))
        assert stored is not None
    return box.decrypt(stored)


def note_file_key_delivered(session: Session, credential: DeviceCredential, now: datetime) -> None:
    """The phone was sent its file key (in a file it received whole): its later files go
    encrypted. One statement; the first delivery's time stays."""
    session.execute(
        update(DeviceCredential)
        .where(DeviceCredential.id == credential.id)
        .values(file_key_delivered_at=func.coalesce(DeviceCredential.file_key_delivered_at, now))
        .execution_options(synchronize_session=False, **{TENANT_OPTION: credential.tenant_id})
    )


def window_state(credential: DeviceCredential | None, source: str, now: datetime) -> WindowState:
    """Whether a request from ``source`` may use the window now."""
    until = as_utc(credential.window_until) if credential else None
    if credential is None or until is None or now > until:
        return WindowState.CLOSED
    if credential.window_source in (None, source):
        return WindowState.ALLOWED
    return WindowState.CONFLICT


def claim_window(
    session: Session, credential: DeviceCredential, source: str, now: datetime
) -> bool:
    """Bind the window to ``source``; False when another address took it first.

    One conditional UPDATE, so two requests that both saw the window unbound cannot both win
    (the database serialises the writes; the loser matches no row).
    """
    result = session.execute(
        update(DeviceCredential)
        .where(
            DeviceCredential.id == credential.id,
            or_(DeviceCredential.window_source.is_(None), DeviceCredential.window_source == source),
        )
        .values(
            window_source=source,
            first_used_at=func.coalesce(DeviceCredential.first_used_at, now),
        )
        .execution_options(synchronize_session=False, **{TENANT_OPTION: credential.tenant_id})
    )
    session.refresh(credential)
    return cast(CursorResult[Any], result).rowcount == 1


def tenant_admin_password(session: Session, box: SecretBox, tenant: Tenant) -> str:
    """The tenant's phone admin password, generated and stored encrypted on first need.

    Generated with a conditional UPDATE, so two phones booting at once cannot each get a
    different one (the second matches no row and reads the first's).
    """
    if not tenant.phone_admin_password_encrypted:
        session.execute(
            update(Tenant)
            .where(Tenant.id == tenant.id, Tenant.phone_admin_password_encrypted.is_(None))
            .values(phone_admin_password_encrypted=box.encrypt(new_password(16)))
            .execution_options(synchronize_session=False, **{TENANT_OPTION: tenant.id})
        )
        session.refresh(tenant)
    assert tenant.phone_admin_password_encrypted is not None
    return box.decrypt(tenant.phone_admin_password_encrypted)


# --- HTTP authentication -----------------------------------------------------------------


def new_nonce(key: bytes, now: float | None = None) -> str:
    """A nonce that proves we issued it, and when: ``stamp.random.signature``. The random part
    makes every nonce its own (phones challenged in the same second must not share one, or
    one's answer would make the other's look like a replay)."""
    stamp = str(int(now if now is not None else time.time()))
    issued = f"{stamp}.{_NONCE_PARTS.next()}"
    return f"{issued}.{_nonce_signature(key, issued)}"


class NonceParts:
    """The random parts of nonces: 16 hex digits each, unpredictable and never repeated in a
    process, without a system call each. Reading the kernel's random source lets go of the
    GIL, and with a worker's threads all answering challenges in a boot storm each such let-go
    handed the GIL to another thread and back (a futex wake and two context switches per
    challenge). So each part is a keyed BLAKE2b of a counter under a key read once per
    process; a forked child reads its own key (see ``os.register_at_fork`` below)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """A new key and counter (a new process must not repeat its parent's parts)."""
        self._key = secrets.token_bytes(32)
        self._counter = itertools.count()  # next() is atomic under the GIL

    def next(self) -> str:
        """The next part."""
        counted = next(self._counter).to_bytes(8, "big")
        return hashlib.blake2b(counted, key=self._key, digest_size=8).hexdigest()


_NONCE_PARTS = NonceParts()
os.register_at_fork(after_in_child=_NONCE_PARTS.reset)


def _legacy_nonce_signature(key: bytes, issued: str) -> str:
    """The signature of nonces issued before 2026-12-07 (HMAC-SHA256, cut): still taken, so
    an upgrade refuses no answer to a nonce issued just before it (such a nonce is stale
    after NONCE_SECONDS; this may go in a release after the next)."""
    return hmac.new(key, issued.encode(), hashlib.sha256).hexdigest()[:32]


def _nonce_signature(key: bytes, issued: str) -> str:
    # Keyed BLAKE2b is a MAC of its own (RFC 7693), at a third of HMAC-SHA256's cost here;
    # 128 bits, as the SHA-256 HMAC cut to 32 hex digits was.
    return hashlib.blake2b(issued.encode(), key=key, digest_size=16).hexdigest()


def nonce_stamp(key: bytes, nonce: str) -> int | None:
    """When we issued ``nonce`` (Unix seconds); None for a nonce we did not issue."""
    issued, _, signature = nonce.rpartition(".")
    stamp, _, random_part = issued.partition(".")
    if not stamp.isdigit() or len(stamp) > 12 or len(random_part) != 16:
        return None
    if hmac.compare_digest(_nonce_signature(key, issued), signature):
        return int(stamp)
    legacy = hmac.compare_digest(_legacy_nonce_signature(key, issued), signature)
    return int(stamp) if legacy else None


def nonce_is_fresh(key: bytes, nonce: str, now: float | None = None) -> bool:
    """True for a nonce we issued less than NONCE_SECONDS ago."""
    stamp = nonce_stamp(key, nonce)
    age = (now if now is not None else time.time()) - (stamp or 0)
    return stamp is not None and 0 <= age <= NONCE_SECONDS


def challenge_headers(key: bytes, stale: bool = False) -> list[tuple[str, str]]:
    """The 401 answer's challenges: Digest (preferred) and Basic; ``stale`` tells a client
    whose answer was made for an expired nonce to answer the new one without asking anyone."""
    digest = f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{new_nonce(key)}"'
    if stale:
        digest += ", stale=true"
    return [("WWW-Authenticate", digest), ("WWW-Authenticate", f'Basic realm="{REALM}"')]


class Verdict(StrEnum):
    """What an Authorization header proves."""

    PROVEN = "proven"
    REFUSED = "refused"
    STALE = "stale"  # a correct answer to a nonce of ours that has expired


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class Proof:
    """The verdict on an Authorization header; for Digest, the nonce and count it used (a
    proven Digest answer still has to be new: see ``provisioner.security.nonces``)."""

    verdict: Verdict
    scheme: str = ""
    nonce: str = ""
    count: int = 0
    nonce_expires_at: int = 0


REFUSED = Proof(Verdict.REFUSED)


def verify_authorization(
    header: str | None,
    method: str,
    path: str,
    username: str | None,
    password: str | None,
    key: bytes,
) -> bool:
    """True when ``header`` proves knowledge of ``password`` for ``username`` (replays not
    checked: that needs the nonce store, see ``check_authorization``)."""
    return check_authorization(header, method, path, username, password, key).verdict is (
        Verdict.PROVEN
    )


def check_authorization(
    header: str | None,
    method: str,
    path: str,
    username: str | None,
    password: str | None,
    key: bytes,
) -> Proof:
    """Whether ``header`` proves knowledge of ``password`` for ``username``.

    With no credentials to compare against, a random password is used, so the work and the
    answer are the same as for a wrong password.
    """
    if not header:
        return REFUSED
    expected_user = username or _STAND_IN_USER
    expected_password = password or _STAND_IN_PASSWORD
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "basic":
        proven = _verify_basic(rest.strip(), expected_user, expected_password)
        return Proof(Verdict.PROVEN, "basic") if proven else REFUSED
    if scheme.lower() == "digest":
        return _verify_digest(rest, method, path, expected_user, expected_password, key)
    return REFUSED


def answers_expired_nonce(header: str | None, key: bytes) -> bool:
    """True for a Digest header made for a nonce of ours that has expired: its challenge says
    ``stale=true``, and it is no failed proof (a phone that slept past the nonce's life)."""
    if authorization_scheme(header) != "digest":
        return False
    parts = {
        match[0].lower(): match[1] or match[2] for match in _DIGEST_PARTS.findall(header or "")
    }
    stamp = nonce_stamp(key, parts.get("nonce", ""))
    return stamp is not None and time.time() - stamp > NONCE_SECONDS


def authorization_scheme(header: str | None) -> str:
    """The scheme of an Authorization header, lower case ("" without one)."""
    return (header or "").partition(" ")[0].lower()


def _verify_basic(token: str, username: str, password: str) -> bool:
    try:
        given = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    given_user, _, given_password = given.partition(":")
    user_ok = hmac.compare_digest(given_user.encode(), username.encode())
    return hmac.compare_digest(given_password.encode(), password.encode()) and user_ok


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


@functools.lru_cache(maxsize=FIRST_HASHES_KEPT)
def _first_hash(username: str, password: str) -> str:
    """RFC 7616's HA1 for a login: the same for each of its answers (kept for the logins
    answered most lately, as the secret box keeps their passwords)."""
    return _md5(f"{username}:{REALM}:{password}")


def _nonce_count(parts: dict[str, str]) -> int | None:
    """The answer's nonce count: ``nc`` (8 hex digits) with qop=auth; 0 without qop (such a
    nonce can be answered once); None when it is malformed."""
    if parts.get("qop") != "auth":
        return 0
    count = parts.get("nc", "")
    return int(count, 16) if _NONCE_COUNT.fullmatch(count) else None


def _verify_digest(
    text: str, method: str, path: str, username: str, password: str, key: bytes
) -> Proof:
    parts = {match[0].lower(): match[1] or match[2] for match in _DIGEST_PARTS.findall(text)}
    if not _DIGEST_NEEDED <= parts.keys() or parts["realm"] != REALM:
        return REFUSED
    if parts["uri"].split("?")[0] != path:  # a response is good for the file it was made for
        return REFUSED
    count = _nonce_count(parts)
    stamp = nonce_stamp(key, parts["nonce"])
    if parts.get("algorithm", "MD5").upper() != "MD5" or stamp is None or count is None:
        return REFUSED
    first = _first_hash(username, password)
    second = _md5(f"{method}:{parts['uri']}")
    if parts.get("qop") == "auth":
        tail = f"{parts['nonce']}:{parts.get('nc', '')}:{parts.get('cnonce', '')}:auth"
    else:
        tail = parts["nonce"]
    expected = _md5(f"{first}:{tail}:{second}")
    user_ok = hmac.compare_digest(parts["username"].encode(), username.encode())
    if not (hmac.compare_digest(parts["response"].encode(), expected.encode()) and user_ok):
        return REFUSED
    if not 0 <= time.time() - stamp <= NONCE_SECONDS:
        return Proof(Verdict.STALE, "digest")
    return Proof(Verdict.PROVEN, "digest", parts["nonce"], count, stamp + NONCE_SECONDS)
