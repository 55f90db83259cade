"""The store side of polling and traps: latest state, bounded history, traps, port state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from provisioner.store.models import (
    NetworkDevice,
    NetworkDeviceState,
    NetworkPollRecord,
    NetworkTrap,
    utc_now,
)
from provisioner.times import as_utc

# The length of the reason columns (NetworkDeviceState.reason, NetworkPollRecord.reason).
REASON_LENGTH = 300


def state_of(session: Session, device_id: int) -> NetworkDeviceState:
    """The device's state row, created (status unknown) on first use."""
    row = session.get(NetworkDeviceState, device_id)
    if row is None:
        row = NetworkDeviceState(device_id=device_id, status="unknown", reason="", data={})
        session.add(row)
    return row


def record_up(
    session: Session,
    device_id: int,
    data: dict[str, Any],
    summary: dict[str, Any],
    keep: int,
    partial: str = "",
    poller: str = "",
) -> None:
    """A successful poll: the new state, one history record, old records beyond ``keep`` gone.

    ``partial`` (which tables are incomplete and why) makes the status ``partial``: the device
    answered, but what it said is not the whole of it. ``poller`` names who polled.
    """
    now = utc_now()
    status, reason = ("partial", shorten(partial)) if partial else ("up", "")
    row = state_of(session, device_id)
    row.status, row.reason, row.checked_at, row.last_up_at, row.down_since = (
        status,
        reason,
        now,
        now,
        None,
    )
    row.data = data
    session.add(
        NetworkPollRecord(
            device_id=device_id,
            at=now,
            status=status,
            reason=reason,
            summary=summary,
            poller=poller,
        )
    )
    prune_history(session, device_id, keep)


def record_down(
    session: Session, device_id: int, kind: str, reason: str, keep: int, poller: str = ""
) -> None:
    """A failed poll: down with the reason; the last good data stays for diagnostics."""
    now = utc_now()
    row = state_of(session, device_id)
    if row.status != "down":
        row.down_since = now
    row.status, row.reason, row.checked_at = "down", shorten(f"{kind}: {reason}"), now
    session.add(
        NetworkPollRecord(
            device_id=device_id,
            at=now,
            status="down",
            reason=row.reason,
            summary={"kind": kind},
            poller=poller,
        )
    )
    prune_history(session, device_id, keep)


def shorten(reason: str, limit: int = REASON_LENGTH) -> str:
    """A reason that fits its column (PostgreSQL refuses longer strings; SQLite does not)."""
    return reason if len(reason) <= limit else reason[: limit - 3] + "..."


def prune_history(session: Session, device_id: int, keep: int) -> None:
    """Keep the newest ``keep`` poll records of a device."""
    keep_newest(session, NetworkPollRecord, device_id, keep)


def keep_newest(
    session: Session,
    model: type[NetworkPollRecord] | type[NetworkTrap],
    device_id: int | None,
    keep: int,
) -> None:
    """Delete a device's rows of ``model`` (poll records or traps) beyond the newest ``keep``."""
    session.flush()
    cutoff = session.scalars(
        select(model.id)
        .where(model.device_id == device_id)
        .order_by(model.id.desc())
        .offset(keep)
        .limit(1)
    ).first()
    if cutoff is not None:
        session.execute(delete(model).where(model.device_id == device_id, model.id <= cutoff))


def history(session: Session, device_id: int, limit: int = 50) -> list[NetworkPollRecord]:
    """The newest poll records of a device, newest first."""
    return list(
        session.scalars(
            select(NetworkPollRecord)
            .where(NetworkPollRecord.device_id == device_id)
            .order_by(NetworkPollRecord.id.desc())
            .limit(limit)
        )
    )


def store_trap(session: Session, trap: NetworkTrap, keep: int) -> None:
    """Store a trap; a link trap sets the port's state at once; keep the newest ``keep``."""
    session.add(trap)
    if trap.device_id is not None and trap.if_index is not None and trap.name in LINK_TRAPS:
        mark_port(session, trap.device_id, trap.if_index, LINK_TRAPS[trap.name], trap.received_at)
    if trap.device_id is not None and trap.name in ("coldStart", "warmStart"):
        row = state_of(session, trap.device_id)
        row.data = {**row.data, "restart_trap_at": as_utc(trap.received_at).isoformat()}
    keep_newest(session, NetworkTrap, trap.device_id, keep)


LINK_TRAPS = {"linkDown": "down", "linkUp": "up"}


def mark_port(
    session: Session, device_id: int, if_index: int, oper_status: str, at: datetime
) -> None:
    """Set one interface's oper status in the latest state (until the next poll says more)."""
    row = state_of(session, device_id)
    data = dict(row.data)
    interfaces = [dict(item) for item in data.get("interfaces", [])]
    for item in interfaces:
        if item["if_index"] == if_index:
            item["oper_status"] = oper_status
            item["status_from_trap_at"] = as_utc(at).isoformat()
            break
    else:
        interfaces.append(
            {
                "if_index": if_index,
                "name": f"ifIndex {if_index}",
                "oper_status": oper_status,
                "status_from_trap_at": as_utc(at).isoformat(),
                "counters": {},
                "rates": {},
            }
        )
    data["interfaces"] = interfaces
    row.data = data  # a new dict, so the JSON column is written


def recent_traps(session: Session, device_ids: list[int], limit: int = 10) -> list[NetworkTrap]:
    """The newest traps of these devices, newest first."""
    if not device_ids:
        return []
    return list(
        session.scalars(
            select(NetworkTrap)
            .where(NetworkTrap.device_id.in_(device_ids))
            .order_by(NetworkTrap.id.desc())
            .limit(limit)
        )
    )


def devices_with_state(
    session: Session, tenant_id: int | None = None
) -> list[tuple[NetworkDevice, NetworkDeviceState | None]]:
    """Devices with their latest state (None before the first poll)."""
    query = select(NetworkDevice, NetworkDeviceState).outerjoin(
        NetworkDeviceState, NetworkDeviceState.device_id == NetworkDevice.id
    )
    if tenant_id is not None:
        query = query.where(NetworkDevice.tenant_id == tenant_id)
    return [(device, state) for device, state in session.execute(query.order_by(NetworkDevice.id))]
