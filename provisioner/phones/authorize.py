"""Deciding what a per-device request earns: the full file, or the bootstrap everyone gets.

Full only for a paired phone that proves itself: its own credentials on the authenticated path
``/p/a/``, or the first-use window that pairing opened (bound to the first address using it).
Everything else, including a wrong vendor or a MAC in the User-Agent that differs from the
file's, gets the bootstrap, byte for byte what a MAC never seen gets.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.firmware.directive import PhoneFirmware, directive
from provisioner.pairing.credentials import (
    Verdict,
    WindowState,
    check_authorization,
    claim_window,
    find_credential,
    tenant_admin_password,
    window_state,
)
from provisioner.phones.config import Secrets, phone_config
from provisioner.phones.model import Answer, EventKind, FileRequest, PhoneConfig, RequestInfo
from provisioner.security import audit
from provisioner.security.nonces import is_new_answer
from provisioner.security.ratelimit import get_rate_limiter, source_key
from provisioner.security.secrets import SecretBox, get_secret_box, load_keys
from provisioner.store import models
from provisioner.tenants.repository import ROW_MODELS, row_to_item
from provisioner.tenants.schema import Phone, TenantDocument, TenantSettings


@dataclass(frozen=True, slots=True)
class Decision:
    """What the request earned; ``config`` is set only for FULL."""

    answer: Answer
    tenant_id: int | None = None
    config: PhoneConfig | None = None
    challenge: bool = False
    kind: EventKind | None = None  # what the timeline records; the answer's kind when None


def nonce_key(app: Flask) -> bytes:
    """The key that signs Digest nonces, derived from the instance's secrets key."""
    first = load_keys(app.config.get("SECRETS_KEY"), app.config["SECRETS_KEY_FILE"])[0]
    return hashlib.sha256(b"provisioner digest nonce " + first).digest()


@dataclass(frozen=True, slots=True)
class Asked:
    """One per-device request with what the front end knows beyond the file name."""

    file_request: FileRequest
    request: RequestInfo
    base_url: str
    authorization: str | None
    authenticated_path: bool
    method: str = "GET"
    uri: str = ""


def decide(app: Flask, session: Session, asked: Asked) -> Decision:
    """Full, bootstrap or denied for ``asked``; writes the window's use and the audit."""
    mac = asked.file_request.mac or ""
    phone_row = session.scalar(select(models.Phone).where(models.Phone.mac == mac))
    credential = find_credential(session, mac)
    tenant_id = phone_row.tenant_id if phone_row is not None else None
    proof = _prove(app, session, asked, credential)
    if isinstance(proof, EventKind):
        answer = Answer.BOOTSTRAP if proof is EventKind.BOOTSTRAP else Answer.DENIED
        return Decision(answer, tenant_id, challenge=asked.authenticated_path, kind=proof)
    if phone_row is None or credential is None or credential.tenant_id != phone_row.tenant_id:
        return Decision(Answer.BOOTSTRAP, tenant_id, kind=EventKind.BOOTSTRAP)
    tenant = session.get(models.Tenant, phone_row.tenant_id)
    assert tenant is not None
    document = load_for_phone(session, tenant, mac, get_secret_box(app))
    phone = document.phones[0]
    if not _fits(document, phone, asked):
        return Decision(Answer.DENIED, tenant_id, kind=EventKind.MISMATCH)
    if proof == FIRST_USE and not claim_window(
        session, credential, asked.request.source, datetime.now(UTC)
    ):
        _alarm_conflict(session, credential, asked.request.source)
        return Decision(Answer.DENIED, tenant_id, kind=EventKind.FIRST_USE_CONFLICT)
    if proof == CREDENTIALS:
        _bind_open_window(session, credential, asked.request.source)
    config = _full_config(app, session, asked, tenant, document, phone, credential)
    audit.record(
        session,
        f"phone:{mac}",
        "release-secret",
        "phones",
        mac,
        tenant.name,
        {
            "fields": ["sip_password", "provisioning_password", "admin_password"],
            "file": asked.file_request.file,
            "via": asked.request.protocol,
            "proof": proof,
            "source": asked.request.source,
        },
    )
    full = EventKind.FULL_CREDENTIALS if proof == CREDENTIALS else EventKind.FULL_FIRST_USE
    return Decision(Answer.FULL, tenant_id, config, kind=full)


FIRST_USE = "first-use window"
CREDENTIALS = "credentials"


def _prove(
    app: Flask, session: Session, asked: Asked, credential: models.DeviceCredential | None
) -> str | EventKind:
    """How the phone proves itself (credentials, the window), or why it is refused (all but
    BOOTSTRAP are denials)."""
    if asked.authenticated_path:
        if proves_credentials(app, credential, asked.authorization, asked.method, asked.uri):
            return CREDENTIALS
        return EventKind.WRONG_CREDENTIALS if asked.authorization else EventKind.CHALLENGE
    source = asked.request.source
    state = window_state(credential, source, datetime.now(UTC))
    if state is WindowState.CONFLICT and credential is not None:
        _alarm_conflict(session, credential, source)
        return EventKind.FIRST_USE_CONFLICT
    if state is not WindowState.ALLOWED:
        return EventKind.BOOTSTRAP
    return EventKind.FIRST_USE_REFUSED if _has_guessed(app, source) else FIRST_USE


def proves_credentials(
    app: Flask,
    credential: models.DeviceCredential | None,
    authorization: str | None,
    method: str,
    uri: str,
) -> bool:
    """True when ``authorization`` proves the phone's credentials (Digest or Basic); without
    credentials a random password stands in, so the work is the same. A Digest answer must
    also be new: one seen before (same nonce, no higher count) is a replay."""
    password = get_secret_box(app).decrypt(credential.password_encrypted) if credential else None
    username = credential.username if credential else None
    proof = check_authorization(authorization, method, uri, username, password, nonce_key(app))
    if proof.verdict is not Verdict.PROVEN:
        return False
    return proof.scheme != "digest" or is_new_answer(app, proof)


def _bind_open_window(session: Session, credential: models.DeviceCredential, source: str) -> None:
    """A phone proving itself by its credentials needs no first-use window: bind an open,
    unused one (a re-pair opens one for a deployed phone) to its address, so no other can."""
    now = datetime.now(UTC)
    if credential.window_source is None and window_state(credential, source, now) is (
        WindowState.ALLOWED
    ):
        claim_window(session, credential, source, now)


def _alarm_conflict(session: Session, credential: models.DeviceCredential, source: str) -> None:
    """A second address inside the first-use window: the audit log's alarm."""
    mac = credential.mac
    tenant = session.scalar(
        select(models.Tenant.name).where(models.Tenant.id == credential.tenant_id)
    )
    audit.record(
        session,
        f"phone:{mac}",
        "first-use-conflict",
        "phones",
        mac,
        tenant,
        {"source": source, "bound_to": credential.window_source},
    )


def _full_config(
    app: Flask,
    session: Session,
    asked: Asked,
    tenant: models.Tenant,
    document: TenantDocument,
    phone: Phone,
    credential: models.DeviceCredential,
) -> PhoneConfig:
    box = get_secret_box(app)
    secrets = Secrets(
        sip_passwords={item.number: item.sip_password or "" for item in document.extensions},
        provisioning_username=credential.username,
        provisioning_password=box.decrypt(credential.password_encrypted),
        admin_password=tenant_admin_password(session, box, tenant),
    )
    model = phone.model or asked.file_request.model
    # A phone stored without a vendor (an OUI two vendors share) is the vendor that asked.
    asking = phone.model_copy(update={"vendor": phone.vendor or asked.file_request.vendor})
    firmware = PhoneFirmware(
        tenant.id,
        phone.mac,
        phone.site,
        asking.vendor or "",
        model or "",
        phone.firmware_target,
        asked.file_request.firmware,
    )
    offer = directive(app, session, firmware, asked.request, asked.base_url)
    url, version = (offer.url, offer.version) if offer else (None, None)
    return phone_config(document, asking, model, secrets, asked.base_url, url, version)


# The parts of a tenant a phone's file is built from; the rest (flows, sounds) is not read.
PHONE_COLLECTIONS = ("sites", "extensions", "ring_groups")


def load_for_phone(
    session: Session, tenant: models.Tenant, mac: str, box: SecretBox
) -> TenantDocument:
    """The tenant as far as one phone needs it: settings, sites, extensions (with their
    secrets), ring groups and that phone only (a boot storm reads this for every phone)."""
    data: dict[str, Any] = {name: getattr(tenant, name) for name in TenantSettings.model_fields}
    for collection in PHONE_COLLECTIONS:
        model = ROW_MODELS[collection]
        rows = session.scalars(select(model).where(model.tenant_id == tenant.id).order_by(model.id))
        data[collection] = [row_to_item(collection, row, box) for row in rows]
    phone = session.scalar(
        select(models.Phone).where(models.Phone.tenant_id == tenant.id, models.Phone.mac == mac)
    )
    data["phones"] = [row_to_item("phones", phone)] if phone is not None else []
    return TenantDocument.model_validate(data)


def _has_guessed(app: Flask, source: str) -> bool:
    """True for an address with more misses than a booting office makes: a genuine phone asks
    for its own file without misses before it, while a guesser piles them up, so the window
    (trust on first use) is not handed to whoever guesses the MAC while it is open."""
    limit = int(app.config["PHONE_WINDOW_MAX_MISSES"])
    return get_rate_limiter(app).count(source_key(source)) > limit


def _fits(document: TenantDocument, phone: Phone, asked: Asked) -> bool:
    """The phone is the one that asks: vendor, MAC in the User-Agent, the site's networks."""
    file_request = asked.file_request
    if phone.vendor is not None and phone.vendor != file_request.vendor:
        return False
    if file_request.agent_mac is not None and file_request.agent_mac != phone.mac:
        return False
    if not phone.lines:
        return False
    if document.provisioning.restrict_to_site_networks:
        return _in_site_networks(document, phone, asked.request.source)
    return True


def _in_site_networks(document: TenantDocument, phone: Phone, source: str) -> bool:
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        return False
    sites = [site for site in document.sites if phone.site in (None, site.name)]
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for site in sites
        for network in site.networks
    )
