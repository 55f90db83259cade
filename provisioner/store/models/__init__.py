"""Every table, by name. A module of tables is imported when one of its names is first used:
SQLAlchemy's mapping of our 28 classes (declaring them, then configuring them all at the first
query) was a fifth of a list command's start-up, and `tenants list` needs the 12 classes of
`tenants`, `token list` the 3 of `security` (bench/README.md, "Command start-up"). `Base`,
asked of this package, loads every module first, so that `Base.metadata` knows every table
(migrations and `create_all` read it); so does `load_every_model()`.

A module whose foreign keys name another module's table imports that module, so the tables a
flush orders by their dependencies are always known.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provisioner.store.models.base import Base as Base
    from provisioner.store.models.base import Timestamped as Timestamped
    from provisioner.store.models.base import utc_now as utc_now
    from provisioner.store.models.firmware import FirmwareDeviceState as FirmwareDeviceState
    from provisioner.store.models.firmware import FirmwareRollout as FirmwareRollout
    from provisioner.store.models.network import NetworkDevice as NetworkDevice
    from provisioner.store.models.network import NetworkDeviceState as NetworkDeviceState
    from provisioner.store.models.network import NetworkPollLease as NetworkPollLease
    from provisioner.store.models.network import NetworkPollRecord as NetworkPollRecord
    from provisioner.store.models.network import NetworkTrap as NetworkTrap
    from provisioner.store.models.pairing import DeviceCredential as DeviceCredential
    from provisioner.store.models.pairing import DeviceEvent as DeviceEvent
    from provisioner.store.models.pairing import DigestNonceUse as DigestNonceUse
    from provisioner.store.models.pairing import PhoneUpload as PhoneUpload
    from provisioner.store.models.routers import Router as Router
    from provisioner.store.models.routers import RouterEvent as RouterEvent
    from provisioner.store.models.security import ApiToken as ApiToken
    from provisioner.store.models.security import AuditEvent as AuditEvent
    from provisioner.store.models.security import TechnicianSession as TechnicianSession
    from provisioner.store.models.tenants import CallFlow as CallFlow
    from provisioner.store.models.tenants import CallFlowStep as CallFlowStep
    from provisioner.store.models.tenants import Extension as Extension
    from provisioner.store.models.tenants import Number as Number
    from provisioner.store.models.tenants import Phone as Phone
    from provisioner.store.models.tenants import Queue as Queue
    from provisioner.store.models.tenants import RingGroup as RingGroup
    from provisioner.store.models.tenants import Site as Site
    from provisioner.store.models.tenants import Sound as Sound
    from provisioner.store.models.tenants import Tenant as Tenant
    from provisioner.store.models.tenants import TimeCondition as TimeCondition
    from provisioner.store.models.tenants import VoicemailBox as VoicemailBox

# The names this package gives, by the module that defines them (tests/store/test_models.py
# checks it against what the modules map).
NAMES_BY_MODULE: dict[str, tuple[str, ...]] = {
    "base": ("Base", "Timestamped", "utc_now"),
    "firmware": ("FirmwareDeviceState", "FirmwareRollout"),
    "network": (
        "NetworkDevice",
        "NetworkDeviceState",
        "NetworkPollLease",
        "NetworkPollRecord",
        "NetworkTrap",
    ),
    "pairing": ("DeviceCredential", "DeviceEvent", "DigestNonceUse", "PhoneUpload"),
    "routers": ("Router", "RouterEvent"),
    "security": ("ApiToken", "AuditEvent", "TechnicianSession"),
    "tenants": (
        "CallFlow",
        "CallFlowStep",
        "Extension",
        "Number",
        "Phone",
        "Queue",
        "RingGroup",
        "Site",
        "Sound",
        "Tenant",
        "TimeCondition",
        "VoicemailBox",
    ),
}
_MODULE_OF = {name: module for module, names in NAMES_BY_MODULE.items() for name in names}


def load_every_model() -> None:
    """Import every module of tables, so `Base.metadata` and the mappers know them all."""
    for module in NAMES_BY_MODULE:
        importlib.import_module(f"{__name__}.{module}")


def __getattr__(name: str) -> Any:
    """A table's class (or base, helper) by name, importing only the module that defines it."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "Base":
        load_every_model()
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
