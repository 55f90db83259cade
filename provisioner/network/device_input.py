"""A router or switch as the API and the command line accept it (pydantic): the fields, their
bounds, and the credentials each SNMP version needs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

DeviceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# RFC 3414: a USM passphrase must be at least 8 characters; net-snmp refuses shorter ones.
UsmKey = Annotated[str, StringConstraints(min_length=8, max_length=200)]


class NetworkDeviceInput(BaseModel):
    """A router or switch as the API and CLI accept it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: DeviceName
    role: Literal["router", "switch"]
    site: str | None = None
    address: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    vendor: Annotated[str, StringConstraints(max_length=40)] | None = None
    model: Annotated[str, StringConstraints(max_length=40)] | None = None
    serial: Annotated[str, StringConstraints(max_length=64)] | None = None
    port: int = Field(default=161, ge=1, le=65535)
    snmp_version: Literal["2c", "3"] = "2c"
    community: Secret | None = None
    v3_user: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    auth_protocol: Literal["SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"] | None = None
    auth_key: UsmKey | None = None
    priv_protocol: Literal["AES", "AES-192", "AES-256", "AES-192-Cisco", "AES-256-Cisco"] | None = (
        None
    )
    priv_key: UsmKey | None = None
    context: str = ""
    engine_id: Annotated[str, StringConstraints(pattern=r"^(0x)?[0-9A-Fa-f]{10,64}$")] | None = None
    poll_interval: int = Field(default=300, ge=10, le=86_400)
    timeout: float = Field(default=2.0, gt=0, le=30)
    retries: int = Field(default=1, ge=0, le=5)
    max_repetitions: int = Field(default=25, ge=1, le=100)
    enabled: bool = True

    @model_validator(mode="after")
    def _credentials(self) -> NetworkDeviceInput:
        if self.snmp_version == "2c" and not self.community:
            raise ValueError("community: SNMP v2c needs a community")
        if self.snmp_version == "3":
            missing = [
                name
                for name in ("v3_user", "auth_protocol", "auth_key", "priv_protocol", "priv_key")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"SNMP v3 authPriv needs {', '.join(missing)}")
        return self


def parse_device(data: Any) -> NetworkDeviceInput:
    """Validate an API body or CLI options; ValidationFailed names every bad field."""
    from provisioner.tenants.validation import parse_model

    device = parse_model(NetworkDeviceInput, data)
    if device.engine_id:
        device.engine_id = device.engine_id.lower().removeprefix("0x")
    return device
