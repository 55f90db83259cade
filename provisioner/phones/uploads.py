"""Files phones upload (Poly: boot and app logs, user overrides), kept per device.

Stored only for a phone that proves itself: its credentials on ``/p/a/``, or on ``/p/`` the
first-use window that a GET of its own file already bound to this very address (an upload
never binds a window: only the phone's GET of its own file may; and an address with more
than PHONE_WINDOW_MAX_MISSES misses may not use one). An unproven upload is a miss, counted
against the source like a GET's, and on ``/p/`` gets the same 204 whether the MAC is paired
or not (the same single lookup either way, nothing written), so neither the answer nor its
time tells a paired MAC from a guessed one. A throttled source gets 429 on ``/p/``; on
``/p/a/`` its credentials are still checked (a guesser behind an office's NAT address must not
cut off its phones), and a failed proof from there gets 429.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.pairing.credentials import (
    WindowState,
    answers_expired_nonce,
    find_credential,
    window_state,
)
from provisioner.pairing.timeline import record_event
from provisioner.phones.authorize import has_guessed, nonce_key, proves_credentials
from provisioner.phones.identify import clean_path, identify
from provisioner.phones.model import Answer, RequestInfo
from provisioner.phones.vendors import by_name
from provisioner.security.ratelimit import (
    get_rate_limiter,
    is_throttled,
    over_limit,
    source_key,
)
from provisioner.store import get_store, models
from provisioner.store.models import DeviceCredential


class UploadStatus(IntEnum):
    """The HTTP status of an upload."""

    TAKEN = 204  # stored, or on /p/ dropped unproven: the same answer
    CHALLENGE = 401  # /p/a/ without valid credentials
    NOT_AN_UPLOAD = 405
    TOO_LARGE = 413
    THROTTLED = 429


def store_upload(
    app: Flask,
    request: RequestInfo,
    body: bytes,
    authorization: str | None,
    authenticated_path: bool,
    uri: str,
) -> UploadStatus:
    """Store a phone's PUT when it proves itself; count it as a miss when it does not."""
    limiter = get_rate_limiter(app)
    source = source_key(request.source)
    throttled = is_throttled(limiter, source)
    if throttled and not authenticated_path:
        return UploadStatus.THROTTLED
    upload = _upload_name(request)
    if upload is None:  # a name no phone uploads: a miss, as a GET of one is
        throttled = over_limit(limiter, limiter.hit(source)) or throttled
        return UploadStatus.THROTTLED if throttled else UploadStatus.NOT_AN_UPLOAD
    if len(body) > app.config["PHONE_UPLOAD_MAX_BYTES"]:
        return UploadStatus.TOO_LARGE
    mac, name = upload
    if _store_if_proven(app, request, mac, name, body, authorization, authenticated_path, uri):
        return UploadStatus.TAKEN
    # A request on /p/a/ without credentials is the first leg of a Digest upload, and an
    # answer to an expired nonce comes from a phone that waited: neither is a miss.
    first_leg = authenticated_path and (
        authorization is None or answers_expired_nonce(authorization, nonce_key(app))
    )
    if not first_leg:
        if over_limit(limiter, limiter.hit(source)) or throttled:
            return UploadStatus.THROTTLED
    return UploadStatus.CHALLENGE if authenticated_path else UploadStatus.TAKEN


def _upload_name(request: RequestInfo) -> tuple[str, str] | None:
    """The MAC and file name of an upload its vendor makes; None for any other name."""
    file_request = identify(request)
    name = clean_path(request.path)
    if file_request is None or name is None or file_request.mac is None:
        return None
    uploads = by_name(file_request.vendor).uploads
    if uploads is None or not uploads.fullmatch(name):
        return None
    return file_request.mac, name


def _store_if_proven(
    app: Flask,
    request: RequestInfo,
    mac: str,
    name: str,
    body: bytes,
    authorization: str | None,
    authenticated_path: bool,
    uri: str,
) -> bool:
    """Store the upload if the uploader proves itself; True when stored. Nothing is written
    otherwise: a paired and an unknown MAC cost the same one lookup."""
    with get_store(app).transaction() as session:
        credential = find_credential(session, mac)
        if not _proven(app, request, credential, authorization, authenticated_path, uri):
            return False
        assert credential is not None
        _save(session, credential.tenant_id, mac, name, body)
        record_event(
            session,
            credential.tenant_id,
            mac,
            request,
            name,
            Answer.STORED,
            app.config["PHONE_TIMELINE_LENGTH"],
        )
    return True


def _proven(
    app: Flask,
    request: RequestInfo,
    credential: DeviceCredential | None,
    authorization: str | None,
    authenticated_path: bool,
    uri: str,
) -> bool:
    """Credentials on /p/a/ (without any, a random password stands in: the same work); on
    /p/, a first-use window already bound to this address by the phone's own GET, and an
    address without too many misses to use it."""
    if authenticated_path:
        return proves_credentials(app, credential, authorization, "PUT", uri) and (
            credential is not None
        )
    if credential is None or credential.window_source != request.source:
        return False
    now = datetime.now(UTC)
    return window_state(credential, request.source, now) is WindowState.ALLOWED and not (
        has_guessed(app, request.source)
    )


def _save(session: Session, tenant_id: int, mac: str, name: str, body: bytes) -> None:
    row = session.scalar(
        select(models.PhoneUpload).where(
            models.PhoneUpload.mac == mac, models.PhoneUpload.name == name
        )
    )
    if row is None:
        row = models.PhoneUpload(mac=mac, name=name)
        session.add(row)
    row.tenant_id, row.content, row.size = tenant_id, body, len(body)
