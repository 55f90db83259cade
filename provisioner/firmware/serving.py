"""Answering a phone's firmware download: ``firmware/<mac>/<token>/<file>``, HTTP or TFTP.

Served only when the token is the one this server put in that MAC's config, the MAC is still
paired (it has device credentials), and the file is the signed one (see ``verification.check``).
Everything else is the same plain miss, counted against the source address like any other.
The first download of a rollout's image moves the phone's state to attempted.
"""

from __future__ import annotations

import hmac
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.firmware import app_trusted_keys, catalogue_directory
from provisioner.firmware.catalogue import FirmwareEntry, read_manifest
from provisioner.firmware.directive import report_refused, url_token
from provisioner.firmware.rollout import ACTIVE, ATTEMPTED, PENDING, ROLLED_BACK, wanted_version
from provisioner.firmware.verification import open_verified
from provisioner.pairing.timeline import record_event
from provisioner.phones.model import Answer, RequestInfo
from provisioner.security.ratelimit import get_rate_limiter, is_throttled, source_key
from provisioner.store import get_store, models

FIRMWARE_PATH = re.compile(
    r"^firmware/(?P<mac>[0-9a-f]{12})/(?P<token>[0-9a-f]{32})/(?P<file>[A-Za-z0-9._()+,\-]{1,128})$"
)


@dataclass(frozen=True, slots=True)
class Download:
    """An image to send: the open file (the caller closes it), its stat, and its entry."""

    entry: FirmwareEntry
    stream: BinaryIO
    stat: os.stat_result


def is_firmware_path(path: str) -> bool:
    """True for names under ``firmware/`` (the TFTP callback hands those to us)."""
    return path.lstrip("/").startswith("firmware/")


def _entry_for(app: Flask, mac: str, token: str, file: str) -> FirmwareEntry | None:
    """The entry whose URL for ``mac`` carries ``token``; file names may repeat (Grandstream)."""
    found = None
    for entry in read_manifest(catalogue_directory(app)):
        if entry.file_name != file:
            continue
        if hmac.compare_digest(token, url_token(app, mac, entry.sha256)):
            found = entry
    return found


def open_download(app: Flask, request: RequestInfo) -> Download | None:
    """The image ``request.path`` names, opened, or None (404) for anything else."""
    limiter, source = get_rate_limiter(app), source_key(request.source)
    if is_throttled(limiter, source):
        return None
    match = FIRMWARE_PATH.fullmatch(request.path.lstrip("/"))
    entry = _entry_for(app, match["mac"], match["token"], match["file"]) if match else None
    if match is None or entry is None:
        limiter.hit(source)
        return None
    mac = match["mac"]
    with get_store(app).transaction() as session:
        credential = session.scalar(
            select(models.DeviceCredential).where(models.DeviceCredential.mac == mac)
        )
        if credential is None:  # unpaired since: its old config's URL no longer works
            limiter.hit(source)
            return None
        directory = catalogue_directory(app)
        stream, stat, verdict = open_verified(directory, entry, app_trusted_keys(app))
        if stream is None or stat is None:
            if verdict.first:
                report_refused(session, entry, verdict.problem or "")
            return None
        _mark_attempted(app, session, credential.tenant_id, mac, entry, request)
    return Download(entry, stream, stat)


def _mark_attempted(
    app: Flask,
    session: Session,
    tenant_id: int,
    mac: str,
    entry: FirmwareEntry,
    request: RequestInfo,
) -> None:
    """The phone's first fetch of its rollout's image: attempted, on its timeline."""
    rows = session.execute(
        select(models.FirmwareDeviceState, models.FirmwareRollout)
        .join(models.FirmwareRollout)
        .where(
            models.FirmwareDeviceState.mac == mac,
            models.FirmwareDeviceState.status == PENDING,
            models.FirmwareRollout.state.in_((ACTIVE, ROLLED_BACK)),
        )
    ).all()
    for state, rollout in rows:
        if wanted_version(rollout) != entry.version or not entry.serves(
            rollout.vendor, rollout.model
        ):
            continue
        state.status = ATTEMPTED
        state.attempted_at = datetime.now(UTC)
        limit = app.config["PHONE_TIMELINE_LENGTH"]
        record_event(session, tenant_id, mac, request, request.path, Answer.FULL, limit)


def firmware_bytes(app: Flask, path: str, client: str) -> bytes | None:
    """For the TFTP service: the whole image, or None (file not found)."""
    download = open_download(app, RequestInfo(path, client, "tftp"))
    if download is None:
        return None
    with download.stream:
        return download.stream.read()
