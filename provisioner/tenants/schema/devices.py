"""The tenant's devices: phones (lines, function keys, per-vendor overrides) and the customer
routers rendered for zero-touch."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from provisioner.phones.mac import normalize_mac
from provisioner.tenants.schema.base import (
    Document,
    ExtensionNumber,
    Name,
)

# Text that ends up inside phone configuration files: no control characters (a newline would
# let a label inject settings into a line-oriented format).
PhoneText = Annotated[str, StringConstraints(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]
OverrideName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]{0,127}$")]
KEY_TYPES = ("blf", "speed_dial", "line", "park", "group_pickup")


class FunctionKey(Document):
    """One programmable key: BLF on an extension, a speed dial, a line, park or group pickup."""

    type: Literal["blf", "speed_dial", "line", "park", "group_pickup"]
    value: Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9*#+@._\-]*$")] = ""
    label: PhoneText = ""
    line: int = Field(default=1, ge=1, le=16, description="the account the key uses")


class Phone(Document):
    mac: str
    vendor: str | None = Field(default=None, max_length=40)
    model: str | None = Field(default=None, max_length=40)
    site: str | None = Field(default=None, max_length=100)
    lines: list[ExtensionNumber] = Field(default_factory=list)
    description: str = Field(default="", max_length=200)
    function_keys: list[FunctionKey] | None = Field(
        default=None,
        description="None: ring groups, then BLF keys per colleague while the model's keys last",
    )
    firmware_target: str | None = Field(
        default=None, pattern=r"^[0-9A-Za-z._\-]{1,64}$", description="the version to run"
    )
    overrides: dict[OverrideName, PhoneText] = Field(
        default_factory=dict, description="vendor setting name -> value, applied last"
    )

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str) -> str:
        return normalize_mac(value)


ROUTER_VENDORS = ("mikrotik", "openwrt", "cisco_ios")
RouterName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
SerialNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
InterfaceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9./:_-]{0,47}$")]
ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]
PortRange = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}-[0-9]{1,5}$")]
# Letters, digits and . _ - only: safe unquoted or quoted in RouterOS, uci and IOS alike.
RouterSecret = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{12,64}$")]


def _secret_field(what: str) -> Any:
    return Field(
        default=None,
        description=f"{what}; generated when absent, never exported unless asked",
        json_schema_extra={"writeOnly": True},
    )


class Router(Document):
    """A customer router we configure for voice and monitor: rendered per vendor from this."""

    name: RouterName = Field(description="its host name; Cisco autoinstall asks <name>-confg")
    site: Name
    vendor: Literal["mikrotik", "openwrt", "cisco_ios"]
    model: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")] | None
    ) = None
    serial: SerialNumber = Field(description="how the router names itself at zero-touch")
    lan_interface: InterfaceName | None = Field(default=None, description="default per vendor")
    wan_interface: InterfaceName | None = Field(default=None, description="default per vendor")
    voice_vlan: int | None = Field(
        default=None, ge=1, le=4094, description="default: the tenant's provisioning.vlan"
    )
    voice_network: str = Field(
        description="the voice VLAN's IPv4 network, e.g. 10.20.0.0/24; the router takes the "
        "first address, DHCP hands out from the tenth"
    )
    management_address: str | None = Field(
        default=None, description="where our poller reaches it; default: where it fetched from"
    )
    snmp_port: int = Field(default=161, ge=1, le=65535, description="where the poller asks")
    snmp_allowed_from: str | None = Field(
        default=None,
        description="the IPv4 network our poller asks from, e.g. 198.51.100.0/28; the router "
        "answers SNMP from there only (required: validation refuses a router without)",
    )
    tftp_server: str | None = Field(default=None, description="option 150 for Cisco phones")
    sip_ports: PortRange = "5060-5061"
    rtp_ports: PortRange = Field(default="16384-32768", description="FreeSWITCH's media ports")
    snmp_user: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{2,31}$")] = "provisioner"
    snmp_auth_key: RouterSecret | None = _secret_field("SNMP v3 SHA key")
    snmp_priv_key: RouterSecret | None = _secret_field("SNMP v3 AES key")
    fetch_secret: RouterSecret | None = _secret_field("what its zero-touch fetch proves itself by")

    @field_validator("voice_network")
    @classmethod
    def _network(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IPv4 network; write e.g. 10.20.0.0/24") from exc
        if not 16 <= network.prefixlen <= 28:
            raise ValueError("use a network from /16 to /28, so phones fit and DHCP has a range")
        return str(network)

    @field_validator("management_address", "tftp_server")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                return str(ipaddress.IPv4Address(value))
            except ValueError as exc:
                raise ValueError(f"{value!r} is not an IPv4 address") from exc
        return value

    @field_validator("snmp_allowed_from")
    @classmethod
    def _source_network(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                return str(ipaddress.IPv4Network(value))
            except ValueError as exc:
                raise ValueError(
                    f"{value!r} is not an IPv4 network; write e.g. 198.51.100.0/28"
                ) from exc
        return value
