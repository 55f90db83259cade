"""Finding a tenant by name, and marking it changed: what the list commands, the network
inventory and the firmware rollouts need of tenants, without the document schema and its
validation (pydantic, phone numbers, holidays) that `tenants.repository` loads to save one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import UnknownTenant
from provisioner.store import models
from provisioner.store.models.tenants import new_revision


def find_tenant(session: Session, name: str) -> models.Tenant:
    """The tenant called ``name``; UnknownTenant otherwise."""
    tenant = session.scalar(select(models.Tenant).where(models.Tenant.name == name))
    if tenant is None:
        raise UnknownTenant(name)
    return tenant


def tenant_names(session: Session) -> list[str]:
    """Every tenant's name, sorted."""
    return list(session.scalars(select(models.Tenant.name).order_by(models.Tenant.name)))


def touch(tenant: models.Tenant) -> None:
    """Mark the tenant changed, in the caller's transaction: every worker's cached copy of
    what its phone files are built from is stale from the commit on."""
    tenant.revision = new_revision()
