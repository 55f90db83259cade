"""Which file key a paired phone's full file gets: none, handed in it, or encrypting it.

A device's key (made at pairing, stored encrypted with its credentials) is handed to the
phone in a full file sent over a trusted channel, TLS or a proven factory certificate, when
its tenant turned encryption on for the vendor. Once handed, every full file of the device is
encrypted with it, whatever the channel (docs/phones.md, "Encrypted configuration files").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from provisioner.pairing.credentials import file_key_of
from provisioner.phones.encryption import Scheme
from provisioner.phones.vendors import by_name
from provisioner.security import audit
from provisioner.security.secrets import get_secret_box
from provisioner.store import models
from provisioner.tenants.schema import TenantDocument


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class FileKey:
    """The device's file key in its full file: ``handed`` to the phone in it (over a trusted
    channel, the first time), or else encrypting it (the phone has the key)."""

    key: str
    scheme: Scheme
    handed: bool


def choose_file_key(
    app: Flask,
    session: Session,
    vendor: str,
    document: TenantDocument,
    credential: models.DeviceCredential,
    trusted: bool,
) -> FileKey | None:
    """Encrypting once the phone has the key; handed over a ``trusted`` channel when the
    tenant encrypts ``vendor``'s files (noted as delivered by the caller once the file is
    made and sent whole: ``note_file_key_delivered``); else None, a plain file without the
    key, as before."""
    scheme = by_name(vendor).file_encryption
    if scheme is None:
        return None
    box = get_secret_box(app)
    if credential.file_key_delivered_at is not None and credential.file_key_encrypted:
        return FileKey(box.decrypt(credential.file_key_encrypted), scheme, handed=False)
    if not trusted or vendor not in document.provisioning.encrypted_files:
        return None
    return FileKey(file_key_of(session, box, credential), scheme, handed=True)


def handed_event(
    mac: str, tenant: str | None, file_key: FileKey, details: dict[str, Any]
) -> dict[str, Any]:
    """The audit event of a key handed to a phone: its scheme and ``details`` (file, channel,
    proof, source), never the key."""
    changes = {"scheme": file_key.scheme.value, **details}
    return audit.event_fields(
        f"phone:{mac}", audit.RELEASE_FILE_KEY, "phones", mac, tenant, changes
    )
