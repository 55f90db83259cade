"""The device timeline: each request of a phone, the newest ``limit`` kept per device.

Phones no tenant has yet are recorded too (discovered devices: a technician sees the MAC that
just booted), without a tenant; their events expire after ``DISCOVERED_HOURS``. Recording
every MAC alike also keeps the work per request the same for known and unknown MACs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from provisioner.phones.model import Answer, RequestInfo
from provisioner.store.models import DeviceEvent, Phone, utc_now

DISCOVERED_HOURS = 24


def record_event(
    session: Session,
    tenant_id: int | None,
    mac: str,
    request: RequestInfo,
    file: str,
    answer: Answer,
    limit: int,
) -> None:
    """Add one event and drop the oldest beyond ``limit`` for this device."""
    session.add(
        DeviceEvent(
            tenant_id=tenant_id,
            mac=mac,
            source=request.source[:64],
            protocol=request.protocol,
            file=file[:255],
            user_agent=request.user_agent[:255],
            answer=answer.value,
        )
    )
    session.flush()
    stale = select(DeviceEvent.id).where(DeviceEvent.mac == mac).order_by(DeviceEvent.id.desc())
    old_ids = list(session.scalars(stale.offset(limit)))
    if old_ids:
        session.execute(delete(DeviceEvent).where(DeviceEvent.id.in_(old_ids)))
    if tenant_id is None:
        expired = utc_now() - timedelta(hours=DISCOVERED_HOURS)
        session.execute(
            delete(DeviceEvent).where(DeviceEvent.tenant_id.is_(None), DeviceEvent.at < expired)
        )


def timeline(session: Session, tenant_id: int, mac: str, limit: int = 100) -> list[dict[str, Any]]:
    """The newest events of one device first (those from before it had a tenant included)."""
    rows = session.scalars(
        select(DeviceEvent)
        .where(
            or_(DeviceEvent.tenant_id == tenant_id, DeviceEvent.tenant_id.is_(None)),
            DeviceEvent.mac == mac,
        )
        .order_by(DeviceEvent.id.desc())
        .limit(limit)
    )
    return [event_json(row) for row in rows]


def discovered(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """Phones seen lately that no tenant has: the newest event of each, newest first."""
    newest = (
        select(func.max(DeviceEvent.id))
        .where(DeviceEvent.tenant_id.is_(None), DeviceEvent.mac.not_in(select(Phone.mac)))
        .group_by(DeviceEvent.mac)
    )
    rows = session.scalars(
        select(DeviceEvent)
        .where(DeviceEvent.id.in_(newest))
        .order_by(DeviceEvent.id.desc())
        .limit(limit)
    )
    return [{"mac": row.mac, **event_json(row)} for row in rows]


def local_time(moment: datetime, timezone: str | None) -> str:
    """``moment`` in the tenant's time zone to the second, with the zone's abbreviation
    (``2026-12-03 11:02:03 CET``); UTC without a tenant or with an unknown zone."""
    utc = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        zone: tzinfo = ZoneInfo(timezone) if timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return utc.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def event_json(row: DeviceEvent) -> dict[str, Any]:
    """One event as the API shows it."""
    return {
        # SQLite hands back naive datetimes; every moment we store is UTC.
        "at": (row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)).isoformat(),
        "source": row.source,
        "protocol": row.protocol,
        "file": row.file,
        "user_agent": row.user_agent,
        "answer": row.answer,
    }
