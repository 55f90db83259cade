"""The firmware URL a paired phone's config carries, and the progress its reports show.

A phone gets a URL only when it reports a version (in its User-Agent) that differs from its
target, it is in the rollout (or pinned by its ``firmware_target``), it has not failed this
rollout, and the target's file is the signed one on disk. Each call also moves the phone's
rollout state: reporting the target marks it upgraded (a timeline event); reporting the old
version again FIRMWARE_FAILED_AFTER_SECONDS after it fetched the image marks it failed.

The URL is ``<base>firmware/<mac>/<token>/<file>``: the token is an HMAC of the MAC and the
image's SHA-256 under a key derived from the secrets key, so only a config released to that
paired phone names a working URL, and the download needs no credentials (not every vendor
sends its provisioning credentials for firmware, and TFTP has none).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioner.firmware import app_trusted_keys, catalogue_directory
from provisioner.firmware.catalogue import FirmwareEntry, for_target, read_manifest
from provisioner.firmware.rollout import (
    ATTEMPTED,
    FAILED,
    PENDING,
    UPGRADED,
    Rollout,
    RolloutRule,
    governing_rollout,
    rollout_for,
    selects,
    wanted_version,
)
from provisioner.firmware.verification import check
from provisioner.pairing.timeline import record_event
from provisioner.phones.model import Answer, RequestInfo
from provisioner.phones.vendors import by_name
from provisioner.security import audit
from provisioner.security.secrets import load_keys
from provisioner.store import models

log = logging.getLogger(__name__)
TOKEN_LENGTH = 32


def url_key(app: Flask) -> bytes:
    """The key that makes firmware URLs, derived from the instance's secrets key."""
    first = load_keys(app.config.get("SECRETS_KEY"), app.config["SECRETS_KEY_FILE"])[0]
    return hashlib.sha256(b"provisioner firmware url " + first).digest()


def url_token(app: Flask, mac: str, sha256: str) -> str:
    """The part of the URL that only this phone's config holds."""
    message = f"{mac}:{sha256}".encode()
    return hmac.new(url_key(app), message, hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def firmware_url(app: Flask, base_url: str, mac: str, entry: FirmwareEntry) -> str:
    """Where the phone fetches ``entry``; a folder for vendors that add their own file name."""
    folder = f"{base_url}firmware/{mac}/{url_token(app, mac, entry.sha256)}/"
    return folder if by_name(entry.vendor).firmware_directory else folder + entry.file_name


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class PhoneFirmware:
    """What the directive needs to know about the phone asking."""

    tenant_id: int
    mac: str
    site: str | None
    vendor: str
    model: str
    pinned: str | None  # the phone's own firmware_target, which wins over rollouts
    reported: str | None  # the version in its User-Agent


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class FirmwareOffer:
    """The image a config points the phone at: its URL and the version it installs."""

    url: str
    version: str


def directive(
    app: Flask,
    session: Session,
    phone: PhoneFirmware,
    request: RequestInfo,
    base_url: str,
    rollouts: Sequence[RolloutRule] | None = None,
) -> FirmwareOffer | None:
    """The image this phone's config names now, or None; records the phone's progress.
    ``rollouts``: the tenant's live rollouts when the caller holds them (else read)."""
    version: str | None = phone.pinned
    rollout: Rollout | None = None
    if version is None:
        if rollouts is None:
            rollout = rollout_for(session, phone.tenant_id, phone.site, phone.vendor, phone.model)
        else:
            rollout = governing_rollout(rollouts, phone.site, phone.vendor, phone.model)
        if rollout is None or not selects(rollout, phone.mac):
            return None
        version = wanted_version(rollout)
    if version is None or phone.reported is None:
        return None  # without a reported version we cannot tell that it differs
    state = _state(session, rollout, phone) if rollout is not None else None
    if phone.reported == version:
        if state is not None and state.status != UPGRADED:
            _finish(app, session, phone, request, state, UPGRADED, Answer.UPGRADED, version)
        return None
    if state is not None and _has_failed(app, state, phone.reported):
        if state.status != FAILED:
            _finish(app, session, phone, request, state, FAILED, Answer.UPGRADE_FAILED, version)
        return None
    entry = servable_entry(app, session, phone.vendor, phone.model, version)
    if entry is None:
        return None
    return FirmwareOffer(firmware_url(app, base_url, phone.mac, entry), entry.version)


def servable_entry(
    app: Flask, session: Session, vendor: str, model: str, version: str
) -> FirmwareEntry | None:
    """The catalogue's image for the target, when its file is still the signed one."""
    directory = catalogue_directory(app)
    entry = for_target(read_manifest(directory), vendor, model, version)
    if entry is None:
        log.warning("firmware %s %s %s is not in the catalogue", vendor, model, version)
        return None
    verdict = check(directory, entry, app_trusted_keys(app))
    if verdict.servable:
        return entry
    if verdict.first:
        report_refused(session, entry, verdict.problem or "")
    return None


def report_refused(session: Session, entry: FirmwareEntry, problem: str) -> None:
    """Log and audit a file that may no longer be served (once per process and file state)."""
    log.error("firmware %s (%s) is not served: %s", entry.identifier, entry.file_name, problem)
    audit.record(
        session,
        "system:firmware",
        "integrity-failed",
        "firmware",
        entry.identifier,
        None,
        {"file": entry.relative_path, "problem": problem},
    )


def _state(session: Session, rollout: Rollout, phone: PhoneFirmware) -> models.FirmwareDeviceState:
    """The phone's row in the rollout, made on first sight (another worker may race us)."""
    query = select(models.FirmwareDeviceState).where(
        models.FirmwareDeviceState.rollout_id == rollout.id,
        models.FirmwareDeviceState.mac == phone.mac,
    )
    state = session.scalar(query)
    if state is not None:
        return state
    try:
        with session.begin_nested():
            state = models.FirmwareDeviceState(
                rollout_id=rollout.id, mac=phone.mac, status=PENDING, from_version=phone.reported
            )
            session.add(state)
    except IntegrityError:
        state = session.scalar(query)
    assert state is not None
    return state


def _has_failed(app: Flask, state: models.FirmwareDeviceState, reported: str) -> bool:
    """The old version again, long enough after the phone fetched the image."""
    if state.status == FAILED:
        return True
    if state.status != ATTEMPTED or state.attempted_at is None:
        return False
    attempted = state.attempted_at
    if attempted.tzinfo is None:  # SQLite hands back naive datetimes; we store UTC
        attempted = attempted.replace(tzinfo=UTC)
    grace = timedelta(seconds=int(app.config["FIRMWARE_FAILED_AFTER_SECONDS"]))
    return reported == state.from_version and datetime.now(UTC) - attempted >= grace


def _finish(
    app: Flask,
    session: Session,
    phone: PhoneFirmware,
    request: RequestInfo,
    state: models.FirmwareDeviceState,
    status: str,
    answer: Answer,
    version: str,
) -> None:
    seen_elsewhere = state.from_version not in (None, version)
    state.status = status
    state.finished_at = datetime.now(UTC)
    if status == UPGRADED and not seen_elsewhere:
        return  # it ran the target when first seen: done, but nothing to show on the timeline
    record_event(
        session,
        phone.tenant_id,
        phone.mac,
        request,
        f"firmware {version}",
        answer,
        app.config["PHONE_TIMELINE_LENGTH"],
    )
