"""The device timeline: each request of a known phone, the newest ``limit`` kept per device."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from provisioner.phones.model import Answer, RequestInfo
from provisioner.store.models import DeviceEvent


def record_event(
    session: Session,
    tenant_id: int,
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


def timeline(session: Session, tenant_id: int, mac: str, limit: int = 100) -> list[dict[str, Any]]:
    """The newest events of one device first, as the API shows them."""
    rows = session.scalars(
        select(DeviceEvent)
        .where(DeviceEvent.tenant_id == tenant_id, DeviceEvent.mac == mac)
        .order_by(DeviceEvent.id.desc())
        .limit(limit)
    )
    return [
        {
            "at": row.at.isoformat(),
            "source": row.source,
            "protocol": row.protocol,
            "file": row.file,
            "user_agent": row.user_agent,
            "answer": row.answer,
        }
        for row in rows
    ]
