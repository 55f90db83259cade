"""The server side of FreeSWITCH's questions: read the store, build the answer.

Each function takes the caller's SQLAlchemy session and returns the answer, or None for
"not found"; the HTTP edge (``provisioner.http.freeswitch``) maps None to the documented
not-found reply, so an unknown domain and a refused request look the same.

Over 400 lines on purpose: it is flat, one function per question FreeSWITCH asks (directory,
dialplan, call centre, call flows, standby), each reading the store and building its answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from provisioner.routing import callcenter, dialplan, standby
from provisioner.routing.answers import AnswerCache
from provisioner.routing.directory import (
    AUTH_ACTIONS,
    UNSERVED_PURPOSES,
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


@dataclass(frozen=True, slots=True)
class TenantKey:
    """What each lookup reads of the tenant it concerns: one small row."""

    id: int
    name: str
    revision: str


TENANT_KEY_COLUMNS = (models.Tenant.id, models.Tenant.name, models.Tenant.revision)


def tenant_keys(session: Session, query: Select[int, str, str]) -> tuple[TenantKey, ...]:
    """The tenant keys ``query`` (selecting ``TENANT_KEY_COLUMNS``) finds, in its order."""
    return tuple(TenantKey(*row) for row in session.execute(query))


def tenant_by_domain(
    session: Session, domain: str, cache: AnswerCache | None = None
) -> TenantKey | None:
    """The tenant whose SIP domain (and dialplan context) is ``domain``; from ``cache``'s
    domains when it keeps them (kept while PostgreSQL announces no change of the tenant,
    see ``provisioner.store.notices``: no round trip), else read."""
    domain = domain.lower()

    def read() -> TenantKey | None:
        found = tenant_keys(
            session, select(*TENANT_KEY_COLUMNS).where(models.Tenant.sip_domain == domain)
        )
        return found[0] if found else None

    return _kept_or_read(cache, domain, read, lambda tenant: tenant.id if tenant else None)


def number_owners(
    session: Session, number: str, cache: AnswerCache | None = None
) -> tuple[TenantKey, ...]:
    """The tenants that have the public ``number`` (E.164), oldest first; kept with the
    domains while PostgreSQL announces no change of any tenant (a number is saved with its
    tenant, which touches the tenant's row; any tenant may take a number up)."""

    def read() -> tuple[TenantKey, ...]:
        return tenant_keys(
            session,
            select(*TENANT_KEY_COLUMNS)
            .join(models.Number, models.Number.tenant_id == models.Tenant.id)
            .where(models.Number.number == number)
            .order_by(models.Number.id),
        )

    # Scope None: forgotten at any tenant's change.
    return _kept_or_read(cache, ("public number", number), read, lambda _: None)


Found = TypeVar("Found")


def _kept_or_read(
    cache: AnswerCache | None,
    key: Hashable,
    read: Callable[[], Found],
    scope: Callable[[Found], int | None],
) -> Found:
    """What ``cache``'s kept rows hold for ``key``, else ``read()``'s, kept under the tenant
    ``scope`` names (None: any tenant's change forgets it) unless a change raced the read."""
    rows = cache.domains if cache is not None else None
    if rows is None:
        return read()
    kept: tuple[Found] | None = rows.get(key)
    if kept is not None:
        return kept[0]
    generation = rows.generation()
    found = read()
    rows.put(key, scope(found), (found,), generation)
    return found


def key_parts(
    session: Session, tenant: TenantKey, collections: tuple[str, ...], number: str | None = None
) -> TenantDocument | None:
    """``load_parts`` for the tenant of ``tenant``; None if it was deleted since."""
    row = session.get(models.Tenant, tenant.id)
    return load_parts(session, row, collections, number) if row is not None else None


@dataclass(frozen=True, slots=True)
class DirectoryAnswer:
    """A directory answer as kept: the document (None: not found), the user whose secrets it
    holds (each use is audited), and whether it may be kept (not when it holds a throwaway
    hash, which is random per answer)."""

    content: bytes | None
    user: str | None
    keep: bool


def directory_answer(
    session: Session,
    box: SecretBox,
    request: DirectoryRequest,
    actor: str,
    cache: AnswerCache | None = None,
    release: Callable[[Session, dict[str, Any]], None] | None = None,
) -> bytes | None:
    """A directory lookup; the secrets given out are recorded in the audit log (also when
    the answer was kept from an earlier lookup): by ``release`` (the columns of the audit
    row: the HTTP view queues them for the batched writer), else in ``session``."""
    tenant = tenant_by_domain(session, request.domain, cache) if request.domain else None
    if tenant is None:
        return None
    fields = secrets_needed(request.action)
    key = (
        "directory",
        tenant.id,
        tenant.revision,
        request.user,
        request.action in AUTH_ACTIONS,
        fields,
        request.purpose in UNSERVED_PURPOSES,
    )
    answer: DirectoryAnswer | None = cache.get(key) if cache is not None else None
    if answer is None:
        answer = build_directory(session, box, tenant, request, fields)
        if cache is not None and answer.keep:
            cache.put(key, answer)
    if answer.user is not None and fields:
        row = audit.event_fields(
            actor,
            audit.RELEASE_SECRET,
            "directory",
            answer.user,
            tenant.name,
            {"fields": sorted(fields), "action": request.action or "lookup"},
        )
        if release is None:
            session.add(models.AuditEvent(**row))
        else:
            release(session, row)
    return answer.content


def build_directory(
    session: Session,
    box: SecretBox,
    tenant: TenantKey,
    request: DirectoryRequest,
    fields: frozenset[str],
) -> DirectoryAnswer:
    """The directory answer from the store (only the asked user's rows when one is asked)."""
    document = key_parts(session, tenant, DIRECTORY_PARTS, request.user or None)
    if document is None:
        return DirectoryAnswer(None, None, keep=False)
    user = wanted_user(document, request) if request.user else None
    secrets: dict[str, UserSecrets] = {}
    if user is not None and fields:
        secrets[user] = user_secrets(session, box, tenant.id, user, fields)
    # A user given secrets without its SIP password (a voicemail lookup, a voicemail-only box)
    # gets the hash of a random throwaway secret, new in every answer: such answers are not kept.
    throwaway = user in secrets and not secrets[user].sip_password
    content = directory_document(document, request, secrets)
    return DirectoryAnswer(content, user, keep=not throwaway)


def user_secrets(
    session: Session, box: SecretBox, tenant_id: int, number: str, fields: frozenset[str]
) -> UserSecrets:
    """The SIP password of extension ``number`` and the PIN of box ``number``, decrypted; each
    only when ``fields`` asks for it (``a1-hash``, ``vm-password``)."""
    extension = session.scalar(
        select(models.Extension).where(
            models.Extension.tenant_id == tenant_id, models.Extension.number == number
        )
    )
    mailbox = session.scalar(
        select(models.VoicemailBox).where(
            models.VoicemailBox.tenant_id == tenant_id, models.VoicemailBox.number == number
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
    session: Session,
    context: str,
    destination: str,
    settings: SwitchSettings,
    cache: AnswerCache | None = None,
) -> bytes | None:
    """The dialplan for a call in ``context`` (a tenant's domain, or ``public``)."""
    if context == dialplan.PUBLIC_CONTEXT:
        return public_answer(session, destination, settings, cache)
    tenant = tenant_by_domain(session, context, cache) if context else None
    if tenant is None:
        return None
    key = ("dialplan", tenant.id, tenant.revision, destination, settings)
    answer: bytes | None = cache.get(key) if cache is not None else None
    if answer is None:
        # Only the dialled extension (or the one a pickup code names): every other one matches
        # exactly its own number, so leaving them out changes nothing for this call and keeps
        # the document small.
        wanted = dialplan.extension_concerned(destination)
        document = key_parts(session, tenant, DIALPLAN_PARTS, wanted)
        if document is None:
            return None
        answer = dialplan.tenant_dialplan(document, settings.gateway)
        if cache is not None:
            cache.put(key, answer)
    return answer


def public_answer(
    session: Session, destination: str, settings: SwitchSettings, cache: AnswerCache | None = None
) -> bytes | None:
    """The public context for an incoming call to ``destination`` in any carrier form."""
    if destination in emergency_numbers(settings.country):
        return dialplan.public_dialplan([], settings.country, settings.gateway)
    try:
        number = normalize_public(destination, settings.country)
    except ValueError:
        return None
    owners = number_owners(session, number, cache)
    if not owners:
        return None
    key = ("public", number, owners, settings)
    answer: bytes | None = cache.get(key) if cache is not None else None
    if answer is None:
        documents = [key_parts(session, owner, DIALPLAN_PARTS, number) for owner in owners]
        matches = [(document, number) for document in documents if document is not None]
        if not matches:
            return None
        answer = dialplan.public_dialplan(matches, settings.country, settings.gateway)
        if cache is not None:
            cache.put(key, answer)
    return answer


def callcenter_answer(session: Session, cache: AnswerCache | None = None) -> bytes:
    """``callcenter.conf`` for every tenant."""
    tenants = tenant_keys(session, select(*TENANT_KEY_COLUMNS).order_by(models.Tenant.name))
    key = ("callcenter", tenants)
    answer: bytes | None = cache.get(key) if cache is not None else None
    if answer is None:
        documents = [key_parts(session, tenant, CALLCENTER_PARTS) for tenant in tenants]
        answer = callcenter.callcenter_document(
            [document for document in documents if document is not None]
        )
        if cache is not None:
            cache.put(key, answer)
    return answer


@dataclass(frozen=True, slots=True)
class RouteAnswer:
    """A route as kept (None: the number leads nowhere)."""

    route: dict[str, Any] | None


def route_answer(
    session: Session,
    tenant_name: str,
    number: str,
    settings: SwitchSettings,
    cache: AnswerCache | None = None,
) -> dict[str, Any] | None:
    """The route the handler walks for ``number`` of tenant ``tenant_name`` (a kept route is
    shared between requests: read it, never change it)."""
    found = tenant_keys(
        session, select(*TENANT_KEY_COLUMNS).where(models.Tenant.name == tenant_name)
    )
    if not found:
        return None
    tenant = found[0]
    key = ("route", tenant.id, tenant.revision, number, settings)
    kept: RouteAnswer | None = cache.get(key) if cache is not None else None
    if kept is None:
        kept = RouteAnswer(build_tenant_route(session, tenant, number, settings))
        if cache is not None:
            cache.put(key, kept)
    return kept.route


def build_tenant_route(
    session: Session, tenant: TenantKey, number: str, settings: SwitchSettings
) -> dict[str, Any] | None:
    """The route from the store: the tenant's routing parts and its sounds' digests."""
    document = key_parts(session, tenant, ROUTE_PARTS)
    if document is None:
        return None
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


STANDBY_PARTS = (*DIALPLAN_PARTS, "voicemail_boxes")


def standby_tag(session: Session, settings: SwitchSettings) -> str:
    """The standby pack's version: it changes when any tenant (whose revision every change
    renews, secrets included) or the switch settings do, so an unchanged pack is known
    without building it (a voicemail-only box's hash is a new throwaway in every build)."""
    tenants = tenant_keys(session, select(*TENANT_KEY_COLUMNS).order_by(models.Tenant.name))
    text = repr(([(tenant.name, tenant.revision) for tenant in tenants], settings))
    return hashlib.sha256(text.encode()).hexdigest()


def standby_answer(
    session: Session, box: SecretBox, settings: SwitchSettings
) -> tuple[bytes, list[str]]:
    """The standby pack (``provisioner.routing.standby``) for every tenant, and the names of
    the tenants whose digest hashes it holds (the caller audits their release)."""
    tenants = session.scalars(select(models.Tenant).order_by(models.Tenant.name)).all()
    packed = []
    for tenant in tenants:
        document = load_parts(session, tenant, STANDBY_PARTS)
        rows = session.scalars(
            select(models.Extension).where(models.Extension.tenant_id == tenant.id)
        ).all()
        secrets = {
            row.number: UserSecrets(sip_password=box.decrypt(row.sip_password_encrypted))
            for row in rows
        }
        packed.append((document, secrets))
    content = standby.standby_document(packed, settings.country, settings.gateway)
    return content, [tenant.name for tenant in tenants]
