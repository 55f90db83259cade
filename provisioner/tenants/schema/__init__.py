"""The tenant document: one customer described as data. YAML files, API bodies and the store
all pass through these models, so a field means the same everywhere.

This module is the document as a whole (its settings, its collections and how an item of each
is named); the parts live by what they describe: ``base`` (shared types, destinations),
``extensions`` (sites, extensions, voicemail, ring groups, queues), ``numbers`` (numbers, time
conditions, sounds), ``call_flows`` and ``devices`` (phones, routers).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from provisioner.tenants.schema.base import Document, Slug, parse_destination
from provisioner.tenants.schema.call_flows import CallFlow
from provisioner.tenants.schema.devices import Phone, Router
from provisioner.tenants.schema.extensions import Extension, Queue, RingGroup, Site, VoicemailBox
from provisioner.tenants.schema.numbers import Number, Sound, TimeCondition

HostName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"),
]


# The vendor modules with a file encryption scheme (``PhoneVendor.file_encryption``; a test
# keeps the two lists equal).
EncryptingVendor = Literal["yealink", "cisco_mpp", "cisco_spa"]


class ProvisioningSettings(Document):
    """What the tenant's phones are told: where to register, time, VLAN, re-sync."""

    registrar: HostName | None = Field(default=None, description="the SIP domain when absent")
    registrar_port: int = Field(default=5060, ge=1, le=65535)
    transport: Literal["udp", "tcp", "tls"] = "udp"
    ntp_server: HostName = "nl.pool.ntp.org"
    vlan: int | None = Field(default=None, ge=1, le=4094, description="voice VLAN id")
    resync_minutes: int = Field(default=1440, ge=5, le=10080)
    pickup_prefix: Annotated[str, StringConstraints(pattern=r"^[*#0-9]{1,6}$")] = "*8"
    restrict_to_site_networks: bool = Field(
        default=False, description="release secrets only to addresses in the sites' networks"
    )
    encrypted_files: list[EncryptingVendor] = Field(
        default_factory=list,
        description="vendors whose phones are given a file key over HTTPS, then get their "
        "own file encrypted (docs/phones.md, 'Encrypted configuration files')",
    )


class TenantSettings(Document):
    """The tenant's own fields, without its collections."""

    name: Slug
    display_name: str = Field(default="", max_length=200)
    sip_domain: Annotated[
        str,
        StringConstraints(
            pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
        ),
    ]
    timezone: str = "Europe/Amsterdam"
    language: Literal["nl", "en", "de", "fr"] = "nl"
    country: str = Field(default="NL", pattern=r"^[A-Z]{2}$")
    fallback: str | None = Field(
        default=None, description="where a call goes when a step fails, e.g. voicemail:240"
    )
    provisioning: ProvisioningSettings = Field(default_factory=ProvisioningSettings)

    @field_validator("fallback")
    @classmethod
    def _destination(cls, value: str | None) -> str | None:
        if value is not None:
            parse_destination(value)
        return value

    @field_validator("sip_domain", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        # DNS ignores case: one form for the switch, the phones and the clash check.
        return value.lower() if isinstance(value, str) else value


class TenantDocument(TenantSettings):
    """A whole tenant: the unit of import, export and validation."""

    sites: list[Site] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    voicemail_boxes: list[VoicemailBox] = Field(default_factory=list)
    ring_groups: list[RingGroup] = Field(default_factory=list)
    queues: list[Queue] = Field(default_factory=list)
    time_conditions: list[TimeCondition] = Field(default_factory=list)
    sounds: list[Sound] = Field(default_factory=list)
    numbers: list[Number] = Field(default_factory=list)
    call_flows: list[CallFlow] = Field(default_factory=list)
    phones: list[Phone] = Field(default_factory=list)
    routers: list[Router] = Field(default_factory=list)

    def settings(self) -> TenantSettings:
        """The tenant's own fields."""
        return TenantSettings.model_validate(
            {field: getattr(self, field) for field in TenantSettings.model_fields}
        )


# The collections of a tenant, each with the field that names an item of it.
COLLECTION_KEYS: dict[str, str] = {
    "sites": "name",
    "extensions": "number",
    "voicemail_boxes": "number",
    "ring_groups": "number",
    "queues": "name",
    "time_conditions": "name",
    "sounds": "name",
    "numbers": "number",
    "call_flows": "name",
    "phones": "mac",
    "routers": "name",
}
COLLECTION_MODELS: dict[str, type[Document]] = {
    "sites": Site,
    "extensions": Extension,
    "voicemail_boxes": VoicemailBox,
    "ring_groups": RingGroup,
    "queues": Queue,
    "time_conditions": TimeCondition,
    "sounds": Sound,
    "numbers": Number,
    "call_flows": CallFlow,
    "phones": Phone,
    "routers": Router,
}
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "extensions": ("sip_password",),
    "voicemail_boxes": ("pin",),
    "routers": ("snmp_auth_key", "snmp_priv_key", "fetch_secret"),
}


def item_key(collection: str, item: Any) -> str:
    """The value that names ``item`` in ``collection``."""
    return str(getattr(item, COLLECTION_KEYS[collection]))
