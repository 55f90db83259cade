"""The inventory of routers and switches per tenant and site; SNMP secrets encrypted at rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from provisioner.security import audit
from provisioner.security.secrets import SecretBox
from provisioner.store.models import NetworkDevice, Site, Tenant
from provisioner.tenants.lookup import find_tenant

if TYPE_CHECKING:  # pysnmp is loaded by the poller, pydantic by adding and changing devices
    from provisioner.network.device_input import NetworkDeviceInput
    from provisioner.network.snmp import Credentials, Target

SECRET_FIELDS = ("community", "auth_key", "priv_key")


def add_device(
    session: Session, tenant_name: str, device: NetworkDeviceInput, box: SecretBox, actor: str
) -> NetworkDevice:
    """Store a new device; its secrets only encrypted. Audited."""
    tenant = find_tenant(session, tenant_name)
    check_site(session, tenant, device.site)
    existing = session.scalar(
        select(NetworkDevice).where(
            NetworkDevice.tenant_id == tenant.id, NetworkDevice.name == device.name
        )
    )
    if existing is not None:
        raise Conflict(f"tenant {tenant_name} already has a network device {device.name!r}")
    fields = device.model_dump(exclude=set(SECRET_FIELDS))
    row = NetworkDevice(tenant_id=tenant.id, **fields)
    for secret in SECRET_FIELDS:
        value = getattr(device, secret)
        setattr(row, f"{secret}_encrypted", box.encrypt(value) if value else None)
    session.add(row)
    session.flush()
    changes = {
        **fields,
        **{secret: audit.REDACTED for secret in SECRET_FIELDS if getattr(device, secret)},
    }
    audit.record(session, actor, "create", "network_device", device.name, tenant_name, changes)
    return row


def update_device(
    session: Session,
    tenant_name: str,
    name: str,
    changes: dict[str, Any],
    box: SecretBox,
    actor: str,
) -> NetworkDevice:
    """Change some fields of a device (its name stays); secrets only when given. Audited."""
    row = find_device(session, tenant_name, name)
    if changes.get("name", name) != name:
        raise ValidationFailed([FieldProblem("name", "cannot change; remove and add instead")])
    from provisioner.network.device_input import parse_device

    before = current_input(row, box)
    device = parse_device({**before, **changes})
    check_site(session, find_tenant(session, tenant_name), device.site)
    after = device.model_dump()
    for field, value in after.items():
        if field in SECRET_FIELDS:
            setattr(row, f"{field}_encrypted", box.encrypt(value) if value else None)
        else:
            setattr(row, field, value)
    audit.record(
        session,
        actor,
        "update",
        "network_device",
        name,
        tenant_name,
        audit.diff(before, after, SECRET_FIELDS),
    )
    return row


def current_input(row: NetworkDevice, box: SecretBox) -> dict[str, Any]:
    """A stored device as input fields, secrets decrypted (in memory only)."""
    from provisioner.network.device_input import NetworkDeviceInput

    fields: dict[str, Any] = {
        field: getattr(row, field)
        for field in NetworkDeviceInput.model_fields
        if field not in SECRET_FIELDS
    }
    for secret in SECRET_FIELDS:
        stored = getattr(row, f"{secret}_encrypted")
        fields[secret] = box.decrypt(stored) if stored else None
    return fields


def check_site(session: Session, tenant: Tenant, site: str | None) -> None:
    """A device's site must be one of the tenant's sites."""
    if site is None:
        return
    names = set(session.scalars(select(Site.name).where(Site.tenant_id == tenant.id)))
    if site not in names:
        known = ", ".join(sorted(names)) or "none yet"
        raise ValidationFailed(
            [FieldProblem("site", f"tenant {tenant.name} has no site {site!r} (sites: {known})")]
        )


def find_device(session: Session, tenant_name: str, name: str) -> NetworkDevice:
    """The tenant's device called ``name``; NotFound otherwise."""
    tenant = find_tenant(session, tenant_name)
    row = session.scalar(
        select(NetworkDevice).where(
            NetworkDevice.tenant_id == tenant.id, NetworkDevice.name == name
        )
    )
    if row is None:
        raise NotFound(f"tenant {tenant_name} has no network device {name!r}")
    return row


def list_devices(session: Session, tenant_name: str | None = None) -> list[NetworkDevice]:
    """Every device (of one tenant), by tenant and name."""
    query = select(NetworkDevice).join(Tenant).order_by(Tenant.name, NetworkDevice.name)
    if tenant_name is not None:
        query = query.where(Tenant.id == find_tenant(session, tenant_name).id)
    return list(session.scalars(query))


def remove_device(session: Session, tenant_name: str, name: str, actor: str) -> None:
    """Delete a device with its state, history and traps. Audited."""
    row = find_device(session, tenant_name, name)
    session.delete(row)
    audit.record(session, actor, "delete", "network_device", name, tenant_name, {})


def device_json(row: NetworkDevice, tenant_name: str) -> dict[str, Any]:
    """A device as the API shows it: secrets never, only whether they are set."""
    return {
        "tenant": tenant_name,
        "name": row.name,
        "role": row.role,
        "site": row.site,
        "address": row.address,
        "vendor": row.vendor,
        "model": row.model,
        "serial": row.serial,
        "port": row.port,
        "snmp_version": row.snmp_version,
        "v3_user": row.v3_user,
        "auth_protocol": row.auth_protocol,
        "priv_protocol": row.priv_protocol,
        "context": row.context,
        "engine_id": row.engine_id,
        "poll_interval": row.poll_interval,
        "timeout": row.timeout,
        "retries": row.retries,
        "max_repetitions": row.max_repetitions,
        "enabled": row.enabled,
        "secrets_set": [name for name in SECRET_FIELDS if getattr(row, f"{name}_encrypted")],
    }


def credentials_of(row: NetworkDevice, box: SecretBox) -> Credentials:
    """Decrypted credentials for the poller (in memory only, never logged)."""
    from provisioner.network.snmp import Credentials

    def reveal(column: str | None) -> str | None:
        return box.decrypt(column) if column else None

    return Credentials(
        version=row.snmp_version,
        community=reveal(row.community_encrypted),
        user=row.v3_user,
        auth_protocol=row.auth_protocol,
        auth_key=reveal(row.auth_key_encrypted),
        priv_protocol=row.priv_protocol,
        priv_key=reveal(row.priv_key_encrypted),
        context=row.context,
    )


def target_of(row: NetworkDevice, box: SecretBox) -> Target:
    """How the poller reaches ``row``."""
    from provisioner.network.snmp import Target

    return Target(
        host=row.address,
        port=row.port,
        credentials=credentials_of(row, box),
        timeout=row.timeout,
        retries=row.retries,
        max_repetitions=row.max_repetitions,
    )
