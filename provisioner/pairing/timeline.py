"""The device timeline: each request of a phone, the newest ``limit`` kept per device.

Phones no tenant has yet are recorded too (discovered devices: a technician sees the MAC that
just booted), without a tenant; their events expire after ``DISCOVERED_HOURS``. Recording
every MAC alike also keeps the work per request the same for known and unknown MACs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from provisioner.phones.model import Answer, EventKind, RequestInfo
from provisioner.store.models import DeviceEvent, Phone, Tenant, utc_now
from provisioner.times import as_utc, local_time

DISCOVERED_HOURS = 24


# What each kind means, as support reads it in the timeline and in `diagnose`.
MEANINGS: dict[str, str] = {
    EventKind.FULL_CREDENTIALS: "full file (proved by its credentials)",
    EventKind.FULL_FIRST_USE: "full file (first-use window)",
    EventKind.FULL_CERTIFICATE: "full file (proved by its factory certificate)",
    EventKind.BOOTSTRAP: "bootstrap file, no secrets (not paired, or not proven)",
    EventKind.CHALLENGE: "Digest challenge (normal: the phone answers it with its credentials)",
    EventKind.WRONG_CREDENTIALS: "refused: wrong credentials",
    EventKind.FIRST_USE_CONFLICT: "refused: first-use window already used by another address",
    EventKind.CERTIFICATE_MISMATCH: "refused: its factory certificate names another MAC",
    EventKind.FIRST_USE_REFUSED: "bootstrap: this address made too many misses for the window",
    EventKind.MISMATCH: "bootstrap: vendor, User-Agent MAC, lines or site network do not fit",
    EventKind.THROTTLED: "refused: this address is throttled (too many misses)",
    EventKind.NOT_FOUND: "not found",
    EventKind.STORED: "upload stored",
    EventKind.REPORTED: "seen on the customer's LAN by the on-site agent (zerotouch discover)",
    EventKind.FAILED: "failed",
}
KIND_OF_ANSWER = {
    Answer.FULL: EventKind.FULL_CREDENTIALS,
    Answer.BOOTSTRAP: EventKind.BOOTSTRAP,
    Answer.NOT_FOUND: EventKind.NOT_FOUND,
    Answer.DENIED: EventKind.FAILED,
    Answer.STORED: EventKind.STORED,
    Answer.REPORTED: EventKind.REPORTED,
}


def record_event(
    session: Session,
    tenant_id: int | None,
    mac: str,
    request: RequestInfo,
    file: str,
    answer: Answer,
    limit: int,
    kind: EventKind | None = None,
) -> None:
    """Add one event and drop the oldest beyond ``limit`` for this device; ``kind`` says
    what happened when the answer alone does not (a challenge, a conflict...)."""
    session.add(
        DeviceEvent(
            tenant_id=tenant_id,
            mac=mac,
            source=request.source[:64],
            protocol=request.protocol,
            file=file[:255],
            user_agent=request.user_agent[:255],
            answer=answer.value,
            kind=(kind or KIND_OF_ANSWER.get(answer, EventKind.FAILED)).value,
            route=request.route[:8],
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
    """The newest events of one device first (those from before it had a tenant included),
    with local times in the tenant's zone."""
    tenant = session.get(Tenant, tenant_id)
    timezone = tenant.timezone if tenant is not None else None
    rows = session.scalars(
        select(DeviceEvent)
        .where(
            or_(DeviceEvent.tenant_id == tenant_id, DeviceEvent.tenant_id.is_(None)),
            DeviceEvent.mac == mac,
        )
        .order_by(DeviceEvent.id.desc())
        .limit(limit)
    )
    return [event_json(row, timezone) for row in rows]


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


def event_json(row: DeviceEvent, timezone: str | None = None) -> dict[str, Any]:
    """One event as the API shows it; ``local_time`` in ``timezone`` (the tenant's)."""
    kind = row.kind  # empty for events recorded before kinds were: their answer says it
    return {
        "at": as_utc(row.at).isoformat(),
        "local_time": local_time(row.at, timezone),
        "source": row.source,
        "protocol": row.protocol,
        "route": row.route,
        "file": row.file,
        "user_agent": row.user_agent,
        "answer": row.answer,
        "kind": kind,
        "meaning": MEANINGS.get(kind, row.answer),
    }


def announced_models(session: Session, macs: list[str]) -> dict[str, tuple[str, str]]:
    """MAC -> the vendor and model (as the vendor module names it) that the phone's latest
    request with a User-Agent announced; MACs that announced no model we know are left out.
    For phones stored without a model (paired without one), wherever a model is needed."""
    from provisioner.phones.identify import from_user_agent
    from provisioner.phones.vendors import by_name

    latest = (
        select(DeviceEvent.mac, func.max(DeviceEvent.id).label("id"))
        .where(DeviceEvent.mac.in_(macs), DeviceEvent.user_agent != "")
        .group_by(DeviceEvent.mac)
        .subquery()
    )
    agents = session.execute(
        select(DeviceEvent.mac, DeviceEvent.user_agent).join(latest, DeviceEvent.id == latest.c.id)
    )
    found: dict[str, tuple[str, str]] = {}
    for mac, agent in agents:
        info = from_user_agent(agent)
        known = by_name(info.vendor).model(info.model) if info.vendor and info.model else None
        if info.vendor and known is not None:
            found[mac] = (info.vendor, known.name)
    return found
