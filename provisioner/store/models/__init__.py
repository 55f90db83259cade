"""Every table, imported here so `Base.metadata` knows them all (migrations read it)."""

from __future__ import annotations

from provisioner.store.models.base import Base, Timestamped, utc_now
from provisioner.store.models.firmware import FirmwareDeviceState, FirmwareRollout
from provisioner.store.models.network import (
    NetworkDevice,
    NetworkDeviceState,
    NetworkPollLease,
    NetworkPollRecord,
    NetworkTrap,
)
from provisioner.store.models.pairing import (
    DeviceCredential,
    DeviceEvent,
    DigestNonceUse,
    PhoneUpload,
)
from provisioner.store.models.routers import Router, RouterEvent
from provisioner.store.models.security import ApiToken, AuditEvent, TechnicianSession
from provisioner.store.models.tenants import (
    CallFlow,
    CallFlowStep,
    Extension,
    Number,
    Phone,
    Queue,
    RingGroup,
    Site,
    Sound,
    Tenant,
    TimeCondition,
    VoicemailBox,
)

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "CallFlow",
    "CallFlowStep",
    "DeviceCredential",
    "DeviceEvent",
    "DigestNonceUse",
    "Extension",
    "FirmwareDeviceState",
    "FirmwareRollout",
    "NetworkDevice",
    "NetworkDeviceState",
    "NetworkPollLease",
    "NetworkPollRecord",
    "NetworkTrap",
    "Number",
    "Phone",
    "PhoneUpload",
    "Queue",
    "RingGroup",
    "Router",
    "RouterEvent",
    "Site",
    "Sound",
    "TechnicianSession",
    "Tenant",
    "TimeCondition",
    "Timestamped",
    "VoicemailBox",
    "utc_now",
]
