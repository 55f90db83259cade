"""Polling shared by several pollers: a lease per device, claimed through the database.

Each enabled device has a lease row holding when it is next due. A poller claims due leases
that no live poller holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: two pollers claiming at
once get different devices, neither waits), and in the same transaction moves the due time one
interval on and holds the lease until the poll's deadline. So each interval a device is polled
by exactly one poller; a poller that dies holds its leases at most until that deadline, and
its devices are polled by another at their next due time, within one interval. SQLite
ignores the row locks: one poller (`serve --network` or `provisioner poller`) per SQLite file.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from provisioner.store.models import NetworkDevice, NetworkPollLease, utc_now


@dataclass(frozen=True, slots=True)
class Claim:
    """A device a poller has claimed for this interval."""

    device: NetworkDevice
    due_at: datetime


def default_poller_name() -> str:
    """This host and process, so two pollers on one host differ."""
    return f"{socket.gethostname()}-{os.getpid()}"


def database_now(session: Session) -> datetime:
    """The database's clock on PostgreSQL (pollers on several hosts agree on it); ours on
    SQLite, where there is only one poller."""
    if session.get_bind().dialect.name == "postgresql":
        now = session.scalar(select(func.now()))
        if isinstance(now, datetime):
            return now
    return utc_now()


def add_missing_leases(session: Session, now: datetime) -> None:
    """Give every device without a lease one, due at once (devices added since the last
    refresh); two pollers doing this at once add each lease once."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    missing = select(
        NetworkDevice.id, literal(now, NetworkPollLease.due_at.type), literal("")
    ).where(~NetworkDevice.id.in_(select(NetworkPollLease.device_id)))
    statement = insert(NetworkPollLease).from_select(["device_id", "due_at", "holder"], missing)
    session.execute(statement.on_conflict_do_nothing(index_elements=["device_id"]))


def set_due(session: Session, device_id: int, due_at: datetime) -> None:
    """Make the device due at ``due_at`` (sooner or later than its interval would), creating
    its lease when it has none yet; a poll under way keeps its hold."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(NetworkPollLease).values(device_id=device_id, due_at=due_at, holder="")
    session.execute(
        statement.on_conflict_do_update(index_elements=["device_id"], set_={"due_at": due_at})
    )


def claim_due(
    session: Session, poller: str, now: datetime, limit: int, deadline: float
) -> list[Claim]:
    """Claim at most ``limit`` due, unheld leases of enabled devices for ``poller``: each is
    held until its poll's deadline (the interval, or ``deadline`` when shorter) and next due
    one interval from now."""
    if limit <= 0:
        return []
    rows = session.execute(
        select(NetworkPollLease, NetworkDevice)
        .join(NetworkDevice, NetworkDevice.id == NetworkPollLease.device_id)
        .where(
            NetworkDevice.enabled.is_(True),
            NetworkPollLease.due_at <= now,
            or_(NetworkPollLease.held_until.is_(None), NetworkPollLease.held_until <= now),
        )
        .order_by(NetworkPollLease.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=NetworkPollLease)
    ).all()
    claims = []
    for lease, device in rows:
        interval = timedelta(seconds=device.poll_interval)
        claims.append(Claim(device, lease.due_at))
        lease.holder = poller
        lease.held_until = now + min(interval, timedelta(seconds=deadline))
        lease.due_at = now + interval
    return claims


def release(session: Session, device_ids: list[int], poller: str) -> None:
    """Polls are stored: ``poller`` lets go of their leases (they stay due as claimed)."""
    session.execute(
        update(NetworkPollLease)
        .where(NetworkPollLease.device_id.in_(device_ids), NetworkPollLease.holder == poller)
        .values(held_until=None)
    )


def hand_back(session: Session, poller: str, now: datetime) -> None:
    """A poller stopping: the polls it still held (cancelled) are due again at once, for
    another poller."""
    session.execute(
        update(NetworkPollLease)
        .where(NetworkPollLease.holder == poller, NetworkPollLease.held_until.is_not(None))
        .values(held_until=None, due_at=now)
    )
