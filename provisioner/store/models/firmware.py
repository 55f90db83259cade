"""Firmware rollouts: a target version per tenant (or site) and model; each phone's progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

# The tenants table, which this module's foreign keys name (see models/__init__.py).
import provisioner.store.models.tenants  # noqa: F401
from provisioner.store.models.base import Base, Timestamped


class FirmwareRollout(Timestamped, Base):
    """One staged rollout: which phones (a stable share plus a canary list) should run
    ``version``; ``state`` is active, rolled-back or superseded (a newer rollout took over)."""

    __tablename__ = "firmware_rollouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    site: Mapped[str] = mapped_column(String(100), default="")  # "" for every site
    vendor: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(64))
    rollback_version: Mapped[str | None] = mapped_column(String(64))
    percentage: Mapped[int] = mapped_column(default=0)
    canary: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_by: Mapped[str] = mapped_column(String(100), default="")


class FirmwareDeviceState(Timestamped, Base):
    """Where one phone is in one rollout: pending, attempted (it fetched the image), upgraded
    or failed (it reported its old version again after the attempt)."""

    __tablename__ = "firmware_device_states"
    __table_args__ = (UniqueConstraint("rollout_id", "mac"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rollout_id: Mapped[int] = mapped_column(
        ForeignKey("firmware_rollouts.id", ondelete="CASCADE"), index=True
    )
    mac: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    from_version: Mapped[str | None] = mapped_column(String(64))
    attempted_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
