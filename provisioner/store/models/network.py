"""Routers and switches we poll over SNMP: inventory, latest state, bounded history, traps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from provisioner.store.models.base import Base, Timestamped, utc_now
from provisioner.store.models.tenants import TenantOwned


class NetworkDevice(TenantOwned, Timestamped, Base):
    """A router or switch of a tenant's site and how to reach it over SNMP."""

    __tablename__ = "network_devices"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    site: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(253))
    vendor: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(40))
    serial: Mapped[str | None] = mapped_column(String(64))
    port: Mapped[int] = mapped_column(default=161)
    snmp_version: Mapped[str] = mapped_column(String(4))
    # v2c: the community; v3: the user and its keys. Secrets only encrypted (SecretBox).
    community_encrypted: Mapped[str | None] = mapped_column(String(400))
    v3_user: Mapped[str | None] = mapped_column(String(64))
    auth_protocol: Mapped[str | None] = mapped_column(String(16))
    auth_key_encrypted: Mapped[str | None] = mapped_column(String(400))
    priv_protocol: Mapped[str | None] = mapped_column(String(24))
    priv_key_encrypted: Mapped[str | None] = mapped_column(String(400))
    context: Mapped[str] = mapped_column(String(64), default="")
    engine_id: Mapped[str | None] = mapped_column(String(64))
    poll_interval: Mapped[int] = mapped_column(default=300)
    timeout: Mapped[float] = mapped_column(default=2.0)
    retries: Mapped[int] = mapped_column(default=1)
    max_repetitions: Mapped[int] = mapped_column(default=25)
    enabled: Mapped[bool] = mapped_column(default=True)


class NetworkDeviceState(Base):
    """The latest poll of one device: up or down (with why), and what it reported."""

    __tablename__ = "network_device_states"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("network_devices.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    reason: Mapped[str] = mapped_column(String(300), default="")
    checked_at: Mapped[datetime | None]
    last_up_at: Mapped[datetime | None]
    down_since: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class NetworkPollRecord(Base):
    """One poll in a device's bounded history (status, uptime, per-interface rates)."""

    __tablename__ = "network_poll_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(
        ForeignKey("network_devices.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utc_now)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The poller that made this poll (its --name; empty for `provisioner poll --once`).
    poller: Mapped[str] = mapped_column(String(100), default="", server_default="")


class NetworkPollLease(Base):
    """When a device is next due, and which poller holds it while polling (several pollers
    share the inventory by claiming due leases, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL)."""

    __tablename__ = "network_poll_leases"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("network_devices.id", ondelete="CASCADE"), primary_key=True
    )
    due_at: Mapped[datetime] = mapped_column(index=True)
    holder: Mapped[str] = mapped_column(String(100), default="")
    # A poller that dies holding a lease loses it at this time (never later than due_at).
    held_until: Mapped[datetime | None]


class NetworkTrap(Base):
    """A notification received from a device (or from an address we do not know)."""

    __tablename__ = "network_traps"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_devices.id", ondelete="CASCADE"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    source: Mapped[str] = mapped_column(String(100))
    security_name: Mapped[str] = mapped_column(String(100), default="")
    trap_oid: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    if_index: Mapped[int | None]
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
