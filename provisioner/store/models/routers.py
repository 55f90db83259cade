"""Customer routers as the tenant document describes them, and their zero-touch timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from provisioner.store.models.base import Base, Timestamped, utc_now
from provisioner.store.models.tenants import TenantOwned


class Router(TenantOwned, Timestamped, Base):
    """A router of a tenant's site: what its voice configuration is rendered from."""

    __tablename__ = "routers"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    site: Mapped[str] = mapped_column(String(100))
    vendor: Mapped[str] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(40))
    # Zero-touch finds the router by its serial, so one serial belongs to one router only.
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    lan_interface: Mapped[str | None] = mapped_column(String(48))
    wan_interface: Mapped[str | None] = mapped_column(String(48))
    voice_vlan: Mapped[int | None]
    voice_network: Mapped[str] = mapped_column(String(18))
    management_address: Mapped[str | None] = mapped_column(String(15))
    snmp_port: Mapped[int] = mapped_column(default=161)
    snmp_allowed_from: Mapped[str | None] = mapped_column(String(18))
    tftp_server: Mapped[str | None] = mapped_column(String(15))
    sip_ports: Mapped[str] = mapped_column(String(11))
    rtp_ports: Mapped[str] = mapped_column(String(11))
    snmp_user: Mapped[str] = mapped_column(String(32))
    snmp_auth_key_encrypted: Mapped[str] = mapped_column(String(400))
    snmp_priv_key_encrypted: Mapped[str] = mapped_column(String(400))
    fetch_secret_encrypted: Mapped[str] = mapped_column(String(400))
    # Not part of the document: a TFTP autoinstall (no secret possible) is answered once, and
    # only while a window an operator opened is open.
    window_until: Mapped[datetime | None] = mapped_column()
    # Set when the router fetched its configuration: until it reports how applying it went
    # (its done URL), or this time passes, it is not polled (it is still applying).
    report_due_at: Mapped[datetime | None] = mapped_column(index=True)
    # The last report (ok, failed, or never reported by the end of the grace period), kept on
    # the row: the timeline also holds refused requests to the done URL, which anyone who
    # knows the serial can send, so it cannot say what the router itself reported.
    report_outcome: Mapped[str | None] = mapped_column(String(16))
    report_reason: Mapped[str | None] = mapped_column(String(200))
    reported_at: Mapped[datetime | None] = mapped_column()


class RouterEvent(Base):
    """One zero-touch fetch of a router (or of someone pretending to be one), or its report
    of how applying the configuration went (``mechanism`` "done")."""

    __tablename__ = "router_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    router_id: Mapped[int] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    source: Mapped[str] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(8))
    mechanism: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(String(16))
    # A report's reason ("uci batch failed"), or why the router never reported.
    detail: Mapped[str] = mapped_column(String(200), default="")
