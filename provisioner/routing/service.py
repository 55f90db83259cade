"""The server side of FreeSWITCH's questions: read the store, build the answer.

Each function takes the caller's SQLAlchemy session and returns the answer, or None for
"not found"; the HTTP edge (``provisioner.http.freeswitch``) maps None to the documented
not-found reply, so an unknown domain and a refused request look the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.routing import callcenter, dialplan
from provisioner.routing.directory import (
    DirectoryRequest,
    UserSecrets,
    directory_document,
    secrets_needed,
    wanted_user,
)
from provisioner.routing.route import StoredSound, build_route
from provisioner.security import audit
from provisioner.security.secrets import SecretBox
from provisioner.store import models
from provisioner.tenants.numbers import emergency_numbers, normalize_public
from provisioner.tenants.repository import ROW_MODELS, row_to_item
from provisioner.tenants.schema import TenantDocument, TenantSettings

# What each answer reads of a tenant: registrations are the busiest lookups, so they skip the
# collections they do not need (flows, sounds, phones ...).
DIRECTORY_PARTS = ("extensions", "voicemail_boxes", "ring_groups", "numbers")
PER_NUMBER_COLLECTIONS = ("extensions", "voicemail_boxes")
DIALPLAN_PARTS = ("extensions", "ring_groups", "queues", "numbers")
CALLCENTER_PARTS = ("queues", "call_flows")
ROUTE_PARTS = (
    "extensions",
    "voicemail_boxes",
    "ring_groups",
    "queues",
    "time_conditions",
    "numbers",
    "call_flows",
)


@dataclass(frozen=True, slots=True)
class SwitchSettings:
    """The provider-wide FreeSWITCH settings from the configuration."""

    gateway: str
    country: str


def load_parts(
    session: Session,
    tenant: models.Tenant,
    collections: tuple[str, ...],
    number: str | None = None,
) -> TenantDocument:
    """The tenant's document with only ``collections`` filled in (the others empty).

    With ``number``, extensions and voicemail boxes hold at most that number: a lookup for one
    user (each REGISTER) or one dialled number (each call) then costs the same in a tenant of
    5 or of 500 extensions.
    """
    data: dict[str, Any] = {name: getattr(tenant, name) for name in TenantSettings.model_fields}
    for collection in collections:
        model = ROW_MODELS[collection]
        query = select(model).where(model.tenant_id == tenant.id)
        if number is not None and collection in PER_NUMBER_COLLECTIONS:
            query = query.where(model.number == number)
        rows = session.scalars(query.order_by(model.id)).all()
        data[collection] = [row_to_item(collection, row) for row in rows]
    return TenantDocument.model_validate(data)


def tenant_by_domain(session: Session, domain: str) -> models.Tenant | None:
    """The tenant whose SIP domain (and dialplan context) is ``domain``."""
    return session.scalar(select(models.Tenant).where(models.Tenant.sip_domain == domain.lower()))


def directory_answer(
    session: Session, box: SecretBox, request: DirectoryRequest, actor: str
) -> bytes | None:
    """A directory lookup; the secrets given out are recorded in the audit log."""
    tenant = tenant_by_domain(session, request.domain) if request.domain else None
    if tenant is None:
        return None
    document = load_parts(session, tenant, DIRECTORY_PARTS, request.user or None)
    user = wanted_user(document, request) if request.user else None
    fields = secrets_needed(request.action)
    secrets: dict[str, UserSecrets] = {}
    if user is not None and fields:
        secrets[user] = user_secrets(session, box, tenant, user, fields)
        audit.record(
            session,
            actor,
            "release-secret",
            "directory",
            user,
            tenant.name,
            {"fields": sorted(fields), "action": request.action or "lookup"},
        )
    return directory_document(document, request, secrets)


def user_secrets(
    session: Session, box: SecretBox, tenant: models.Tenant, number: str, fields: frozenset[str]
) -> UserSecrets:
    """The SIP password of extension ``number`` and the PIN of box ``number``, decrypted; each
    only when ``fields`` asks for it (``a1-hash``, ``vm-password``)."""
    extension = session.scalar(
        select(models.Extension).where(
            models.Extension.tenant_id == tenant.id, models.Extension.number == number
        )
    )
    mailbox = session.scalar(
        select(models.VoicemailBox).where(
            models.VoicemailBox.tenant_id == tenant.id, models.VoicemailBox.number == number
        )
    )
    wants_hash = "a1-hash" in fields
    wants_pin = "vm-password" in fields
    return UserSecrets(
        sip_password=box.decrypt(extension.sip_password_encrypted)
        if extension and wants_hash
        else None,
        voicemail_pin=box.decrypt(mailbox.pin_encrypted) if mailbox and wants_pin else None,
    )


def dialplan_answer(
    session: Session, context: str, destination: str, settings: SwitchSettings
) -> bytes | None:
    """The dialplan for a call in ``context`` (a tenant's domain, or ``public``)."""
    if context == dialplan.PUBLIC_CONTEXT:
        return public_answer(session, destination, settings)
    tenant = tenant_by_domain(session, context) if context else None
    if tenant is None:
        return None
    # Only the dialled extension: every other one matches exactly its own number, so leaving
    # them out changes nothing for this call and keeps the document small in a large tenant.
    document = load_parts(session, tenant, DIALPLAN_PARTS, destination)
    return dialplan.tenant_dialplan(document, settings.gateway)


def public_answer(session: Session, destination: str, settings: SwitchSettings) -> bytes | None:
    """The public context for an incoming call to ``destination`` in any carrier form."""
    if destination in emergency_numbers(settings.country):
        return dialplan.public_dialplan([], settings.country, settings.gateway)
    try:
        number = normalize_public(destination, settings.country)
    except ValueError:
        return None
    rows = session.scalars(select(models.Number).where(models.Number.number == number)).all()
    matches: list[tuple[TenantDocument, str]] = []
    for row in rows:
        tenant = session.get(models.Tenant, row.tenant_id)
        if tenant is not None:
            matches.append((load_parts(session, tenant, DIALPLAN_PARTS, number), number))
    if not matches:
        return None
    return dialplan.public_dialplan(matches, settings.country, settings.gateway)


def callcenter_answer(session: Session) -> bytes:
    """``callcenter.conf`` for every tenant."""
    tenants = session.scalars(select(models.Tenant).order_by(models.Tenant.name)).all()
    documents = [load_parts(session, tenant, CALLCENTER_PARTS) for tenant in tenants]
    return callcenter.callcenter_document(documents)


def route_answer(
    session: Session, tenant_name: str, number: str, settings: SwitchSettings
) -> dict[str, Any] | None:
    """The route the handler walks for ``number`` of tenant ``tenant_name``."""
    tenant = session.scalar(select(models.Tenant).where(models.Tenant.name == tenant_name))
    if tenant is None:
        return None
    document = load_parts(session, tenant, ROUTE_PARTS)
    rows = session.execute(
        select(models.Sound.name, models.Sound.sha256, models.Sound.content_type).where(
            models.Sound.tenant_id == tenant.id
        )
    ).all()
    sounds = {name: StoredSound(sha256, content_type) for name, sha256, content_type in rows}
    return build_route(document, number, settings.gateway, sounds)


def sound_answer(session: Session, tenant_name: str, name: str) -> models.Sound | None:
    """The stored sound ``name`` of the tenant, with its audio."""
    return session.scalar(
        select(models.Sound)
        .join(models.Tenant, models.Tenant.id == models.Sound.tenant_id)
        .where(models.Tenant.name == tenant_name, models.Sound.name == name)
    )
