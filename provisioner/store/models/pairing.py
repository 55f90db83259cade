"""Pairing of phones: per-device provisioning credentials, the boot timeline, uploads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

# The tenants table, which this module's foreign keys name (see models/__init__.py).
import provisioner.store.models.tenants  # noqa: F401
from provisioner.store.models.base import Base, Timestamped, utc_now


class DeviceCredential(Timestamped, Base):
    """The provisioning credentials of one paired phone, and its first-use window."""

    __tablename__ = "device_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    mac: Mapped[str] = mapped_column(String(12), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    password_encrypted: Mapped[str] = mapped_column(String(400))
    # Opened by pairing: until then, one device may fetch its secrets without credentials.
    window_until: Mapped[datetime | None] = mapped_column()
    # The address that used the window first; another address inside the window is an alarm.
    window_source: Mapped[str | None] = mapped_column(String(64))
    first_used_at: Mapped[datetime | None] = mapped_column()
    # The device's key for encrypted files (Fernet ciphertext of 16 characters), made at
    # pairing; None for credentials made before keys existed (one is made when first needed).
    file_key_encrypted: Mapped[str | None] = mapped_column(String(400))
    # When a file over a trusted channel gave the phone its key: from then on its files are
    # sent encrypted. A re-pair clears it (the phone may have been reset).
    file_key_delivered_at: Mapped[datetime | None] = mapped_column()


class DeviceEvent(Base):
    """One request of a phone: when, from where, which file, and what it got. A phone no
    tenant has yet (a discovered device) has no tenant; those events expire after a while."""

    __tablename__ = "device_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    mac: Mapped[str] = mapped_column(String(12), index=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    source: Mapped[str] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(8))
    file: Mapped[str] = mapped_column(String(255))
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    answer: Mapped[str] = mapped_column(String(16))
    # What happened, finer than the answer: a Digest challenge, wrong credentials, a first-use
    # conflict, throttled... (phones.model.EventKind); and the route: /p/, /p/a/ or "" (TFTP).
    kind: Mapped[str] = mapped_column(String(32), default="")
    route: Mapped[str] = mapped_column(String(8), default="")


class PhoneUpload(Timestamped, Base):
    """A file a phone uploaded (Poly logs and overrides), the newest per device and name."""

    __tablename__ = "phone_uploads"
    __table_args__ = (UniqueConstraint("mac", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    mac: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int]


class DigestNonceUse(Base):
    """The highest Digest nonce count (nc) answered correctly for one of our nonces, so a
    captured Authorization header cannot be sent again; kept until the nonce expires."""

    __tablename__ = "digest_nonce_uses"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_count: Mapped[int] = mapped_column(BigInteger)
    # Unix seconds; past this the nonce is refused as stale anyway and the row can go.
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
