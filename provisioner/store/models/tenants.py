"""A customer (tenant) and everything it owns: extensions, groups, numbers, flows, sounds."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provisioner.store.models.base import Base, Timestamped


def new_revision() -> str:
    """A token no earlier state of any tenant had."""
    return uuid.uuid4().hex


class Tenant(Timestamped, Base):
    """A customer of the provider."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    sip_domain: Mapped[str] = mapped_column(String(253), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    language: Mapped[str] = mapped_column(String(8), default="nl")
    country: Mapped[str] = mapped_column(String(2), default="NL")
    fallback: Mapped[str | None] = mapped_column(String(200))
    provisioning: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The password of the phones' admin web page, one per tenant; generated when first needed.
    phone_admin_password_encrypted: Mapped[str | None] = mapped_column(String(400))
    # Changed (a fresh random token) in the transaction of every change to the tenant, so every
    # worker's cache of what phone files are built from knows when it is stale.
    revision: Mapped[str] = mapped_column(String(32), default=new_revision, server_default="")


class TenantOwned:
    """Adds the owning tenant's id."""

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class Site(TenantOwned, Timestamped, Base):
    """A customer location, with the networks its devices use."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300), default="")
    networks: Mapped[list[Any]] = mapped_column(default=list)


class Extension(TenantOwned, Timestamped, Base):
    """A SIP user: a person's internal number."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    voicemail: Mapped[bool] = mapped_column(default=False)
    sip_password_encrypted: Mapped[str] = mapped_column(String(400))


class VoicemailBox(TenantOwned, Timestamped, Base):
    """A mailbox callers can leave messages in; messages may be mailed."""

    __tablename__ = "voicemail_boxes"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    attach_audio: Mapped[bool] = mapped_column(default=True)
    keep_local: Mapped[bool] = mapped_column(default=True)
    pin_encrypted: Mapped[str] = mapped_column(String(400))


class RingGroup(TenantOwned, Timestamped, Base):
    """Several extensions rung at once or in order, with a next step on no answer."""

    __tablename__ = "ring_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    strategy: Mapped[str] = mapped_column(String(20))
    members: Mapped[list[Any]] = mapped_column(default=list)
    ring_time: Mapped[int] = mapped_column(default=30)
    no_answer: Mapped[str | None] = mapped_column(String(200))


class Queue(TenantOwned, Timestamped, Base):
    """A call queue: callers wait with music, agents are offered calls by strategy."""

    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    number: Mapped[str | None] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(40))
    agents: Mapped[list[Any]] = mapped_column(default=list)
    max_wait: Mapped[int] = mapped_column(default=300)
    music: Mapped[str | None] = mapped_column(String(200))


class TimeCondition(TenantOwned, Timestamped, Base):
    """Opening hours: weekly ranges, public holidays, extra closed and open dates."""

    __tablename__ = "time_conditions"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(64))
    weekly: Mapped[list[Any]] = mapped_column(default=list)
    holidays: Mapped[dict[str, Any] | None] = mapped_column()
    closed: Mapped[list[Any]] = mapped_column(default=list)
    open: Mapped[list[Any]] = mapped_column(default=list)


class Sound(TenantOwned, Timestamped, Base):
    """An uploaded audio file with its measured duration."""

    __tablename__ = "sounds"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    duration_seconds: Mapped[float]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class Number(TenantOwned, Timestamped, Base):
    """A number callers dial: public (E.164) or internal, with where it leads."""

    __tablename__ = "numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public numbers are unique across tenants, internal ones within a tenant (checked on save).
    number: Mapped[str] = mapped_column(String(20), index=True)
    destination: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(200), default="")


class CallFlow(TenantOwned, Timestamped, Base):
    """A customer's call flow ("belplan"): a graph of steps."""

    __tablename__ = "call_flows"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300), default="")
    start: Mapped[str | None] = mapped_column(String(64))
    steps: Mapped[list[CallFlowStep]] = relationship(
        order_by="CallFlowStep.position", cascade="all, delete-orphan", lazy="selectin"
    )


class CallFlowStep(Timestamped, Base):
    """One step of a call flow: its type, parameters and outgoing branches."""

    __tablename__ = "call_flow_steps"
    __table_args__ = (UniqueConstraint("call_flow_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_flow_id: Mapped[int] = mapped_column(
        ForeignKey("call_flows.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    step_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100), default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    branches: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Phone(TenantOwned, Timestamped, Base):
    """A desk phone known by its MAC, with the extensions on its lines."""

    __tablename__ = "phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    mac: Mapped[str] = mapped_column(String(12), unique=True)
    vendor: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(40))
    site: Mapped[str | None] = mapped_column(String(100))
    lines: Mapped[list[Any]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(String(200), default="")
    function_keys: Mapped[list[Any] | None] = mapped_column()
    firmware_target: Mapped[str | None] = mapped_column(String(64))
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
