"""Tenant documents in and out of the store.

`save_document` is the one way tenant data is written: it matches items by their natural key
(extension number, flow name, ...), so row ids stay stable for what did not change, and it
writes an audit event for every item created, changed or deleted, in the same transaction.

Over 400 lines on purpose: ``save_document`` and its helpers are the one write path for
tenant data; the matching by natural key and the audit it writes are read together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import FieldProblem, NotFound, UnknownTenant, ValidationFailed
from provisioner.security import audit
from provisioner.security.secrets import SecretBox, new_password, new_pin
from provisioner.store import models
from provisioner.tenants import schema

# Re-exported: most callers find a tenant and save its document from this one module.
from provisioner.tenants.lookup import find_tenant as find_tenant
from provisioner.tenants.lookup import tenant_names as tenant_names
from provisioner.tenants.lookup import touch as touch
from provisioner.tenants.schema.base import Document
from provisioner.tenants.sounds import measure_sound
from provisioner.tenants.validation import check_document

ROW_MODELS: dict[str, type[Any]] = {
    "sites": models.Site,
    "extensions": models.Extension,
    "voicemail_boxes": models.VoicemailBox,
    "ring_groups": models.RingGroup,
    "queues": models.Queue,
    "time_conditions": models.TimeCondition,
    "sounds": models.Sound,
    "numbers": models.Number,
    "call_flows": models.CallFlow,
    "phones": models.Phone,
    "routers": models.Router,
}
# Secret fields of the document and the encrypted column that holds each, with a generator.
SECRET_COLUMNS: dict[str, tuple[str, Any]] = {
    "sip_password": ("sip_password_encrypted", new_password),
    "pin": ("pin_encrypted", new_pin),
    "snmp_auth_key": ("snmp_auth_key_encrypted", new_password),
    "snmp_priv_key": ("snmp_priv_key_encrypted", new_password),
    "fetch_secret": ("fetch_secret_encrypted", new_password),
}
# Fields that the document carries but that are not plain columns of the same name.
SPECIAL_FIELDS = frozenset(
    {"steps", "file", "sip_password", "pin", "snmp_auth_key", "snmp_priv_key", "fetch_secret"}
)


@dataclass
class SaveContext:
    """What a save needs besides the document."""

    session: Session
    actor: str
    box: SecretBox
    tenant: models.Tenant
    sound_contents: Mapping[str, bytes] = field(default_factory=dict)
    action_prefix: str = ""


def unknown_tenant(name: str) -> NotFound:
    """The error for a tenant that does not exist, which a token limited to other tenants
    gets too (it must not learn which exist)."""
    return UnknownTenant(name)


# --- Reading ---------------------------------------------------------------------------------


def load_document(
    session: Session, tenant: models.Tenant, box: SecretBox | None = None
) -> schema.TenantDocument:
    """The whole tenant as a document; secrets are filled in only when ``box`` is given."""
    data: dict[str, Any] = {
        name: getattr(tenant, name) for name in schema.TenantSettings.model_fields
    }
    for collection, model in ROW_MODELS.items():
        rows = session.scalars(
            select(model).where(model.tenant_id == tenant.id).order_by(model.id)
        ).all()
        data[collection] = [row_to_item(collection, row, box) for row in rows]
    return schema.TenantDocument.model_validate(data)


def row_to_item(collection: str, row: Any, box: SecretBox | None = None) -> dict[str, Any]:
    """One stored row as the document's dict for ``collection``."""
    item_model = schema.COLLECTION_MODELS[collection]
    item = {
        name: getattr(row, name) for name in item_model.model_fields if name not in SPECIAL_FIELDS
    }
    if collection == "call_flows":
        item["steps"] = [
            {"id": step.step_id, "type": step.type, "name": step.name, **step.parameters}
            for step in row.steps
        ]
    if collection == "sounds":
        item["file"] = f"sounds/{row.name}"
    for secret in schema.SECRET_FIELDS.get(collection, ()):
        if box is not None:
            item[secret] = box.decrypt(getattr(row, SECRET_COLUMNS[secret][0]))
    return item


# --- Writing ---------------------------------------------------------------------------------


def save_document(
    session: Session,
    document: schema.TenantDocument,
    actor: str,
    box: SecretBox,
    sound_contents: Mapping[str, bytes] | None = None,
) -> models.Tenant:
    """Make the stored tenant equal to ``document``; audit every difference.

    The caller owns the transaction: nothing is committed here, so a failure anywhere
    (validation, a clash with another tenant) leaves the database as it was.
    """
    check_document(document)
    tenant = session.scalar(select(models.Tenant).where(models.Tenant.name == document.name))
    created = tenant is None
    if tenant is None:
        tenant = models.Tenant(name=document.name)
        session.add(tenant)
    before = {} if created else _settings_dict(tenant)
    for name, value in document.settings().model_dump().items():
        setattr(tenant, name, value)
    touch(tenant)
    session.flush()
    after = _settings_dict(tenant)
    if created or before != after:
        audit.record(
            session,
            actor,
            "create" if created else "update",
            "tenant",
            document.name,
            document.name,
            after if created else audit.diff(before, after, ()),
        )
    _check_across_tenants(session, document, tenant)
    _check_paired_phones_kept(session, document, tenant)
    context = SaveContext(session, actor, box, tenant, sound_contents or {})
    for collection in ROW_MODELS:
        _sync_collection(context, collection, getattr(document, collection))
    session.flush()
    return tenant


def delete_tenant(session: Session, name: str, actor: str) -> None:
    """Erase a tenant and everything it owns (the customer's right to deletion)."""
    tenant = find_tenant(session, name)
    for model in ROW_MODELS.values():
        for row in session.scalars(select(model).where(model.tenant_id == tenant.id)):
            session.delete(row)
    session.delete(tenant)
    audit.record(session, actor, "delete", "tenant", name, name)
    session.flush()


def _settings_dict(tenant: models.Tenant) -> dict[str, Any]:
    return {name: getattr(tenant, name) for name in schema.TenantSettings.model_fields}


def _check_across_tenants(
    session: Session, document: schema.TenantDocument, tenant: models.Tenant
) -> None:
    """Public numbers, phone MACs and SIP domains belong to one tenant only."""
    problems: list[FieldProblem] = []
    public = {
        item.number: index
        for index, item in enumerate(document.numbers)
        if item.number.startswith("+")
    }
    for number in session.scalars(
        select(models.Number.number).where(
            models.Number.number.in_(public), models.Number.tenant_id != tenant.id
        )
    ):
        problems.append(
            FieldProblem(f"numbers[{public[number]}].number", f"{number} belongs to another tenant")
        )
    macs = {item.mac: index for index, item in enumerate(document.phones)}
    for mac in session.scalars(
        select(models.Phone.mac).where(
            models.Phone.mac.in_(macs), models.Phone.tenant_id != tenant.id
        )
    ):
        problems.append(
            FieldProblem(
                f"phones[{macs[mac]}].mac",
                f"{mac} is registered to another tenant; unpair it there first",
            )
        )
    problems += _serials_elsewhere(session, document, tenant)
    other_domain = session.scalar(
        select(models.Tenant.name).where(
            models.Tenant.sip_domain == document.sip_domain, models.Tenant.id != tenant.id
        )
    )
    if other_domain:
        problems.append(FieldProblem("sip_domain", f"{document.sip_domain} is another tenant's"))
    if problems:
        raise ValidationFailed(problems)


def _serials_elsewhere(
    session: Session, document: schema.TenantDocument, tenant: models.Tenant
) -> list[FieldProblem]:
    """A router serial names one router: zero-touch finds the router by it."""
    serials = {item.serial: index for index, item in enumerate(document.routers)}
    taken = session.scalars(
        select(models.Router.serial).where(
            models.Router.serial.in_(serials), models.Router.tenant_id != tenant.id
        )
    )
    return [
        FieldProblem(f"routers[{serials[serial]}].serial", f"{serial} is another tenant's router")
        for serial in taken
    ]


def _check_paired_phones_kept(
    session: Session, document: schema.TenantDocument, tenant: models.Tenant
) -> None:
    """A paired phone leaves only by unpairing, which kills its credentials and rotates the SIP
    passwords it knew; dropping it from the document would leave both alive."""
    kept = {phone.mac for phone in document.phones}
    paired = session.scalars(
        select(models.DeviceCredential.mac).where(models.DeviceCredential.tenant_id == tenant.id)
    )
    problems = [
        FieldProblem(
            "phones",
            f"phone {mac} is paired; unpair it first (provisioner unpair {mac} --tenant "
            f"{tenant.name}, or DELETE /api/v1/tenants/{tenant.name}/phones/{mac}/pairing) so "
            "its credentials stop working and the SIP passwords it knew are replaced",
        )
        for mac in paired
        if mac not in kept
    ]
    if problems:
        raise ValidationFailed(problems)


def _sync_collection(context: SaveContext, collection: str, items: list[Any]) -> None:
    model = ROW_MODELS[collection]
    key_field = schema.COLLECTION_KEYS[collection]
    secrets = schema.SECRET_FIELDS.get(collection, ())
    existing = {
        str(getattr(row, key_field)): row
        for row in context.session.scalars(
            select(model).where(model.tenant_id == context.tenant.id)
        )
    }
    for index, item in enumerate(items):
        key = schema.item_key(collection, item)
        row = existing.pop(key, None)
        before = None if row is None else _comparable(collection, row_to_item(collection, row))
        if row is None:
            row = model(tenant_id=context.tenant.id)
            context.session.add(row)
        hidden = _apply_item(context, collection, row, item, f"{collection}[{index}]")
        after = _comparable(collection, item.model_dump(mode="json"))
        _audit_item(context, collection, key, before, after, hidden, secrets)
    for key, row in existing.items():
        before = _comparable(collection, row_to_item(collection, row))
        context.session.delete(row)
        audit.record(
            context.session,
            context.actor,
            "delete",
            collection,
            key,
            context.tenant.name,
            audit.redact(before, secrets),
        )


def _comparable(collection: str, item: dict[str, Any]) -> dict[str, Any]:
    """An item's fields as compared for the audit log (secrets and derived fields left out)."""
    model = schema.COLLECTION_MODELS[collection]
    normalized = model.model_validate(item).model_dump(mode="json")
    for name in (*schema.SECRET_FIELDS.get(collection, ()), "file", "duration_seconds"):
        normalized.pop(name, None)
    return normalized


def _audit_item(
    context: SaveContext,
    collection: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    hidden: dict[str, Any],
    secrets: tuple[str, ...],
) -> None:
    if before is None:
        changes = audit.redact(after, secrets)
        action = "create"
    else:
        changes = audit.diff(before, after, secrets)
        action = "update"
    changes.update(hidden)
    if before is None or changes:
        audit.record(
            context.session, context.actor, action, collection, key, context.tenant.name, changes
        )


def _apply_item(
    context: SaveContext, collection: str, row: Any, item: Document, path: str
) -> dict[str, Any]:
    """Copy ``item`` onto ``row``; return the changes its fields do not show (secrets, audio)."""
    for name in type(item).model_fields:
        if name not in SPECIAL_FIELDS and name != "duration_seconds":
            setattr(row, name, _plain(getattr(item, name)))
    if collection == "call_flows":
        _apply_steps(row, item)
    hidden: dict[str, Any] = {}
    if collection == "sounds":
        hidden = _apply_sound(context, row, item, path)
    for secret in _apply_secrets(context, collection, row, item):
        hidden[secret] = audit.REDACTED
    return hidden


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(element) for element in value]
    if isinstance(value, Document):
        return value.model_dump(mode="json")
    return value


def _apply_steps(row: models.CallFlow, flow: Any) -> None:
    # Rows are reused by step id: the (flow, step id) pair is unique, and the unit of work
    # would insert a new row before deleting the old one.
    existing = {step.step_id: step for step in row.steps}
    steps = []
    for position, step in enumerate(flow.steps):
        step_row = existing.get(step.id) or models.CallFlowStep(step_id=step.id)
        step_row.position = position
        step_row.type = step.type
        step_row.name = step.name
        step_row.parameters = step.model_dump(mode="json", exclude={"id", "type", "name"})
        step_row.branches = step.branches()
        steps.append(step_row)
    row.steps = steps


def _apply_sound(context: SaveContext, row: models.Sound, sound: Any, path: str) -> dict[str, Any]:
    """Store new audio; return the change for the audit log (by digest) when there was one."""
    content = context.sound_contents.get(sound.name)
    if content is None:
        if row.id is None:
            raise ValidationFailed(
                [FieldProblem(f"{path}.file", f"no audio given for new sound {sound.name}")]
            )
        return {}
    digest = hashlib.sha256(content).hexdigest()
    if digest == row.sha256:
        return {}
    try:
        content_type, duration = measure_sound(content)
    except ValueError as exc:
        raise ValidationFailed([FieldProblem(f"{path}.file", str(exc))]) from exc
    changes = {"audio": [f"sha256:{row.sha256}" if row.sha256 else None, f"sha256:{digest}"]}
    row.content, row.sha256 = content, digest
    row.content_type, row.duration_seconds = content_type, duration
    return changes


def _apply_secrets(context: SaveContext, collection: str, row: Any, item: Any) -> list[str]:
    changed = []
    for secret in schema.SECRET_FIELDS.get(collection, ()):
        column, generate = SECRET_COLUMNS[secret]
        given: str | None = getattr(item, secret)
        current = getattr(row, column, None)
        if given is None and current:
            continue
        if given is not None and current and context.box.decrypt(current) == given:
            continue
        setattr(row, column, context.box.encrypt(given if given is not None else generate()))
        changed.append(secret)
    return changed


def reveal_secret(
    session: Session, box: SecretBox, tenant: models.Tenant, collection: str, key: str, actor: str
) -> dict[str, str]:
    """The plaintext secrets of one item, recorded in the audit log as released."""
    model = ROW_MODELS[collection]
    key_column = getattr(model, schema.COLLECTION_KEYS[collection])
    row = session.scalar(select(model).where(model.tenant_id == tenant.id, key_column == key))
    if row is None:
        raise NotFound(f"no {collection} item {key!r} in tenant {tenant.name}")
    revealed = {
        secret: box.decrypt(getattr(row, SECRET_COLUMNS[secret][0]))
        for secret in schema.SECRET_FIELDS.get(collection, ())
    }
    audit.record(
        session, actor, "release-secret", collection, key, tenant.name, {"fields": sorted(revealed)}
    )
    return revealed
