"""The rows `provisioner phones list` and `discovered list` print: plain text per column."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from provisioner.errors import UnknownTenant
from provisioner.pairing.timeline import discovered
from provisioner.store import models
from provisioner.times import local_time


def phone_rows(session: Session, tenant_name: str | None = None) -> list[tuple[str, ...]]:
    """Tenant, MAC, vendor, model, lines, paired, last request (tenant's zone, answer)."""
    query = (
        select(models.Phone, models.Tenant)
        .join(models.Tenant, models.Phone.tenant_id == models.Tenant.id)
        .order_by(models.Tenant.name, models.Phone.mac)
    )
    if tenant_name is not None:
        if (
            session.scalar(select(models.Tenant.id).where(models.Tenant.name == tenant_name))
            is None
        ):
            raise UnknownTenant(tenant_name)
        query = query.where(models.Tenant.name == tenant_name)
    found = session.execute(query).all()
    macs = [phone.mac for phone, _ in found]
    paired = set(
        session.scalars(
            select(models.DeviceCredential.mac).where(models.DeviceCredential.mac.in_(macs))
        )
    )
    newest = (
        select(func.max(models.DeviceEvent.id))
        .where(models.DeviceEvent.mac.in_(macs))
        .group_by(models.DeviceEvent.mac)
    )
    last = {
        event.mac: event
        for event in session.scalars(
            select(models.DeviceEvent).where(models.DeviceEvent.id.in_(newest))
        )
    }
    return [
        (
            tenant.name,
            phone.mac,
            phone.vendor or "-",
            phone.model or "-",
            ", ".join(phone.lines) or "-",
            "yes" if phone.mac in paired else "no",
            _last_request(last.get(phone.mac), tenant.timezone),
        )
        for phone, tenant in found
    ]


def _last_request(event: models.DeviceEvent | None, timezone: str) -> str:
    if event is None:
        return "never"
    return f"{local_time(event.at, timezone)} {event.kind or event.answer}"


def discovered_rows(session: Session) -> list[tuple[str, ...]]:
    """MAC, last request (UTC: no tenant yet), source, file, User-Agent."""
    return [
        (
            event["mac"],
            local_time(datetime.fromisoformat(event["at"]), None),
            event["source"],
            event["file"],
            event["user_agent"],
        )
        for event in discovered(session)
    ]
