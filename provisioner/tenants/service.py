"""Changes to one item of a tenant, made by rewriting its document so every rule is checked.

The API calls these; each loads the tenant's document, applies one change, validates the
whole document (references, clashes, flows) and saves it in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from provisioner.errors import (
    Conflict,
    FieldProblem,
    NotFound,
    RemovalsNotConfirmed,
    ValidationFailed,
)
from provisioner.phones.mac import is_mac, normalize_mac
from provisioner.security import audit
from provisioner.security.secrets import SecretBox
from provisioner.tenants import schema
from provisioner.tenants.changes import ChangeSummary, summarize
from provisioner.tenants.repository import find_tenant, load_document, save_document
from provisioner.tenants.schema.base import Document
from provisioner.tenants.schema.numbers import Sound
from provisioner.tenants.validation import parse_model


def replace_document(
    session: Session,
    box: SecretBox,
    document: schema.TenantDocument,
    actor: str,
    sounds: Mapping[str, bytes] | None = None,
    confirm_removals: bool = True,
) -> ChangeSummary:
    """Save a whole document (import, PUT); what it changed, item by item.

    RemovalsNotConfirmed when it removes items and ``confirm_removals`` is False; the caller's
    transaction then rolls back, so nothing is changed. Run it in a rehearsal for a dry run.
    """
    with audit.collecting(session) as events:
        save_document(session, document, actor, box, sounds)
    summary = summarize(events, document)
    if summary.has_removals and not confirm_removals:
        raise RemovalsNotConfirmed(
            f"this would remove {summary.removals_text()} from tenant {document.name}; nothing "
            "was changed. Send confirm_removals=true to remove them (dry_run=true shows every "
            "change first)"
        )
    return summary


def check_collection(collection: str) -> None:
    """NotFound unless ``collection`` is one a tenant has."""
    if collection not in schema.COLLECTION_KEYS:
        raise NotFound(
            f"no collection {collection!r}; a tenant has " + ", ".join(schema.COLLECTION_KEYS)
        )


def list_items(session: Session, tenant_name: str, collection: str) -> list[dict[str, Any]]:
    """Every item of a collection, as the API shows it (no secrets)."""
    check_collection(collection)
    document = load_document(session, find_tenant(session, tenant_name))
    return [public_item(item) for item in getattr(document, collection)]


def get_item(session: Session, tenant_name: str, collection: str, key: str) -> dict[str, Any]:
    """One item by its key, as the API shows it."""
    check_collection(collection)
    document = load_document(session, find_tenant(session, tenant_name))
    return public_item(_find(document, collection, key)[1])


def add_item(
    session: Session,
    box: SecretBox,
    tenant_name: str,
    collection: str,
    data: Any,
    actor: str,
    sound: bytes | None = None,
) -> dict[str, Any]:
    """Create an item; Conflict if its key is taken."""
    check_collection(collection)
    item = parse_model(schema.COLLECTION_MODELS[collection], data)
    document = load_document(session, find_tenant(session, tenant_name))
    key = schema.item_key(collection, item)
    if any(schema.item_key(collection, other) == key for other in getattr(document, collection)):
        raise Conflict(f"{collection} already has {key}; change it with PUT or PATCH")
    getattr(document, collection).append(item)
    _save(session, box, document, actor, {key: sound} if sound is not None else None)
    return public_item(item)


def replace_item(
    session: Session,
    box: SecretBox,
    tenant_name: str,
    collection: str,
    key: str,
    data: Any,
    actor: str,
    partial: bool = False,
) -> dict[str, Any]:
    """Replace (PUT) or merge into (PATCH) an existing item; its key cannot change."""
    check_collection(collection)
    document = load_document(session, find_tenant(session, tenant_name))
    index, current = _find(document, collection, key)
    if not isinstance(data, Mapping):
        raise ValidationFailed([FieldProblem("", "send a JSON object")])
    merged = {**current.model_dump(exclude_none=True), **data} if partial else dict(data)
    key_field = schema.COLLECTION_KEYS[collection]
    merged.setdefault(key_field, key)
    item = parse_model(schema.COLLECTION_MODELS[collection], merged)
    if schema.item_key(collection, item) != normalize_key(collection, key):
        raise ValidationFailed(
            [FieldProblem(key_field, "cannot be changed; delete the item and create a new one")]
        )
    getattr(document, collection)[index] = item
    _save(session, box, document, actor)
    return public_item(item)


def remove_item(
    session: Session, box: SecretBox, tenant_name: str, collection: str, key: str, actor: str
) -> None:
    """Delete an item; ValidationFailed if something still refers to it."""
    check_collection(collection)
    document = load_document(session, find_tenant(session, tenant_name))
    index, _ = _find(document, collection, key)
    del getattr(document, collection)[index]
    _save(session, box, document, actor)


def upload_sound(
    session: Session, box: SecretBox, tenant_name: str, name: str, content: bytes, actor: str
) -> dict[str, Any]:
    """Create or replace a sound's audio."""
    document = load_document(session, find_tenant(session, tenant_name))
    sound = parse_model(Sound, {"name": name})
    document.sounds = [item for item in document.sounds if item.name != name] + [sound]
    _save(session, box, document, actor, {name: content})
    return public_item(sound)


def normalize_key(collection: str, key: str) -> str:
    """A key as stored: phones are found by any common MAC notation."""
    if collection == "phones" and is_mac(key):
        return normalize_mac(key)
    return key


def public_item(item: Document) -> dict[str, Any]:
    """An item as the API shows it: secrets left out."""
    data = item.model_dump(mode="json", exclude_none=True)
    for secrets in schema.SECRET_FIELDS.values():
        for secret in secrets:
            data.pop(secret, None)
    return data


def _find(document: schema.TenantDocument, collection: str, key: str) -> tuple[int, Any]:
    key = normalize_key(collection, key)
    for index, item in enumerate(getattr(document, collection)):
        if schema.item_key(collection, item) == key:
            return index, item
    raise NotFound(f"no {collection} item {key!r} in tenant {document.name}")


def _save(
    session: Session,
    box: SecretBox,
    document: schema.TenantDocument,
    actor: str,
    sounds: Mapping[str, bytes] | None = None,
) -> None:
    # Re-validate from plain data: list edits above bypass pydantic's own checks.
    fresh = schema.TenantDocument.model_validate(document.model_dump())
    save_document(session, fresh, actor, box, sounds)
