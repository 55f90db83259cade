"""Files phones upload (Poly: boot and app logs, user overrides), kept per device.

Stored only for a phone that proves itself like a download would (credentials on ``/p/a/``,
or the first-use window, which an upload binds to its address as a download does); an
unproven upload gets the same 204 and is dropped, so the answer never tells whether a MAC is
paired.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.pairing.credentials import (
    WindowState,
    claim_window,
    find_credential,
    window_state,
)
from provisioner.pairing.timeline import record_event
from provisioner.phones.authorize import proves_credentials
from provisioner.phones.identify import clean_path, identify
from provisioner.phones.model import Answer, RequestInfo
from provisioner.phones.vendors import by_name
from provisioner.store import get_store, models
from provisioner.store.models import DeviceCredential


def store_upload(
    app: Flask,
    request: RequestInfo,
    body: bytes,
    authorization: str | None,
    authenticated_path: bool,
    uri: str,
) -> int:
    """The HTTP status for a PUT: 204 taken, 401 unproven on /p/a/, 405 not an upload, 413."""
    file_request = identify(request)
    name = clean_path(request.path)
    if file_request is None or name is None or file_request.mac is None:
        return 405
    uploads = by_name(file_request.vendor).uploads
    if uploads is None or not uploads.fullmatch(name):
        return 405
    if len(body) > app.config["PHONE_UPLOAD_MAX_BYTES"]:
        return 413
    with get_store(app).transaction() as session:
        credential = find_credential(session, file_request.mac)
        proven = _proven(app, request, credential, authorization, authenticated_path, uri)
        if proven and not authenticated_path and credential is not None:
            # The window is for one device: an upload through it binds it like a download.
            proven = claim_window(session, credential, request.source, datetime.now(UTC))
        if authenticated_path and not proven:
            return 401
        if proven and credential is not None:
            _save(session, credential.tenant_id, file_request.mac, name, body)
            record_event(
                session,
                credential.tenant_id,
                file_request.mac,
                request,
                name,
                Answer.STORED,
                app.config["PHONE_TIMELINE_LENGTH"],
            )
    return 204


def _proven(
    app: Flask,
    request: RequestInfo,
    credential: DeviceCredential | None,
    authorization: str | None,
    authenticated_path: bool,
    uri: str,
) -> bool:
    """The uploader proves itself as a download would: credentials, or its bound window."""
    if not authenticated_path:
        return window_state(credential, request.source, datetime.now(UTC)) is WindowState.ALLOWED
    return proves_credentials(app, credential, authorization, "PUT", uri)


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
