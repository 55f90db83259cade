"""The tenant document: one customer described as data. YAML files, API bodies and the store
all pass through these models, so a field means the same everywhere."""

from __future__ import annotations

import datetime
import ipaddress
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from provisioner.phones.mac import normalize_mac

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
StepId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ExtensionNumber = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{1,5}$")]
InternalNumber = Annotated[str, StringConstraints(pattern=r"^\*?[1-9][0-9]{1,7}$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
# Free-text lengths match the store's columns: longer text is a 422 naming the field, not a
# database error (PostgreSQL refuses it) or a silent difference between databases.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Digit = Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")]

LANGUAGES = ("nl", "en", "de", "fr")
DESTINATION_KINDS = (
    "extension",
    "voicemail",
    "ring_group",
    "queue",
    "call_flow",
    "external",
    "hangup",
)
# Printable ASCII without space, quotes and backslash (the quoting of phone file formats).
SIP_PASSWORD_PATTERN = re.compile(r"[!#-&(-\[\]-~]+")
_DESTINATION = re.compile(r"^(?P<kind>[a-z_]+)(:(?P<value>.+))?$")


def parse_destination(text: str) -> tuple[str, str]:
    """Split ``kind:value`` (``extension:240``, ``call_flow:Hoofdroute``, ``hangup``)."""
    match = _DESTINATION.fullmatch(text.strip())
    if not match or match["kind"] not in DESTINATION_KINDS:
        raise ValueError(
            f"{text!r} is not a destination; write one of "
            + ", ".join(f"{kind}:..." for kind in DESTINATION_KINDS[:-1])
            + " or hangup"
        )
    kind, value = match["kind"], (match["value"] or "").strip()
    if (kind == "hangup") != (value == ""):
        raise ValueError(f"{text!r}: hangup takes no value, every other destination needs one")
    return kind, value


def minutes(clock: str) -> int:
    """``"08:30"`` -> 510."""
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


class Document(BaseModel):
    """Base of every part of the document: unknown fields are errors, not silently dropped."""

    # YAML reads `number: 240` or `choices: {1: wachtrij}` as integers: take them as the text.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)


class Site(Document):
    name: Name
    address: str = Field(default="", max_length=300)
    networks: list[str] = Field(default_factory=list, description="CIDR networks of the site")


class Extension(Document):
    number: ExtensionNumber
    name: Name
    email: Email | None = None
    voicemail: bool = False
    sip_password: str | None = Field(
        default=None,
        min_length=12,
        max_length=64,
        description="generated when absent; never exported unless asked",
        json_schema_extra={"writeOnly": True},
    )

    @field_validator("sip_password")
    @classmethod
    def _writable_password(cls, value: str | None) -> str | None:
        # It goes into every phone file format: refuse now what a phone's file cannot hold,
        # rather than fail when the phone boots. The message never repeats the password.
        if value is not None and not SIP_PASSWORD_PATTERN.fullmatch(value):
            raise ValueError(
                "use letters, digits and symbols only: no spaces, quotes, backslashes, "
                "line breaks or characters outside ASCII"
            )
        return value


class VoicemailBox(Document):
    number: InternalNumber
    name: Name
    email: Email | None = None
    attach_audio: bool = True
    keep_local: bool = True
    pin: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4,8}$",
        description="4-8 digits; generated when absent",
        json_schema_extra={"writeOnly": True},
    )


class RingGroup(Document):
    number: InternalNumber
    name: Name
    strategy: Literal["simultaneous", "sequential"] = "simultaneous"
    members: list[ExtensionNumber] | Literal["all"] = "all"
    ring_time: int = Field(default=30, ge=5, le=600)
    no_answer: str | None = Field(default=None, description="destination, e.g. voicemail:240")

    @field_validator("no_answer")
    @classmethod
    def _destination(cls, value: str | None) -> str | None:
        if value is not None:
            parse_destination(value)
        return value


QUEUE_STRATEGIES = (
    "ring-all",
    "longest-idle-agent",
    "round-robin",
    "top-down",
    "agent-with-least-talk-time",
    "agent-with-fewest-calls",
    "sequentially-by-agent-order",
    "random",
)


class Queue(Document):
    name: Name
    number: InternalNumber | None = None
    strategy: Literal[
        "ring-all",
        "longest-idle-agent",
        "round-robin",
        "top-down",
        "agent-with-least-talk-time",
        "agent-with-fewest-calls",
        "sequentially-by-agent-order",
        "random",
    ] = "longest-idle-agent"
    agents: list[ExtensionNumber] = Field(default_factory=list)
    max_wait: int = Field(default=300, ge=10, le=7200, description="seconds before the exit")
    music: str | None = Field(
        default=None, description="a sound name; default hold music if absent"
    )


class WeeklyHours(Document):
    days: list[Weekday] = Field(min_length=1)
    start: ClockTime
    end: ClockTime


class DateRule(Document):
    date: str = Field(pattern=r"^([0-9]{4}-)?[0-9]{2}-[0-9]{2}$", description="YYYY-MM-DD or MM-DD")
    name: str = ""
    start: ClockTime | None = None
    end: ClockTime | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_text(cls, value: Any) -> Any:
        # YAML reads an unquoted 2026-12-31 as a date: take it as the text it was.
        return value.isoformat() if isinstance(value, datetime.date) else value


class HolidaySet(Document):
    country: str = Field(default="NL", pattern=r"^[A-Z]{2}$")
    exclude: list[str] = Field(default_factory=list, description="holiday names kept open")
    include_optional: bool = Field(default=False, description="also close on optional holidays")


class TimeCondition(Document):
    name: Name
    timezone: str | None = Field(default=None, description="the tenant's when absent")
    weekly: list[WeeklyHours] = Field(default_factory=list)
    holidays: HolidaySet | None = None
    closed: list[DateRule] = Field(default_factory=list, description="extra closed days")
    open: list[DateRule] = Field(default_factory=list, description="exceptions: open anyway")


class Sound(Document):
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 _().-]{1,200}$")]
    file: str | None = Field(default=None, description="path relative to the YAML file")
    duration_seconds: float | None = Field(default=None, description="measured on import")

    @field_validator("name")
    @classmethod
    def _not_a_folder(cls, value: str) -> str:
        # Exported as sounds/<name>: "." or ".." would name the folder, not a file.
        if set(value) == {"."}:
            raise ValueError("a sound's name needs a letter or digit, e.g. Welkom.mp3")
        return value


class Number(Document):
    number: str = Field(description="public E.164 (+31202103356) or internal (5000)")
    destination: str = Field(description="e.g. call_flow:Hoofdroute")
    description: str = Field(default="", max_length=200)

    @field_validator("destination")
    @classmethod
    def _destination(cls, value: str) -> str:
        parse_destination(value)
        return value


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


# --- Routers ---------------------------------------------------------------------------------

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


# --- Call-flow steps -------------------------------------------------------------------------


class Step(Document):
    """What every step has: an id unique in its flow, a type and a label."""

    id: StepId
    name: str = Field(default="", max_length=100)

    BRANCHES: ClassVar[tuple[str, ...]] = ("next",)
    # A step that keeps the caller busy (audio, ringing, waiting for digits). A loop through
    # such a step is a caller-facing loop; a loop without one would spin forever.
    WAITS: ClassVar[bool] = False

    def branches(self) -> dict[str, str | None]:
        """Outgoing branches by name; None means the call ends there politely."""
        return {branch: getattr(self, branch) for branch in self.BRANCHES}


class TimeConditionStep(Step):
    type: Literal["TIJDSCONDITIE"]
    time_condition: Name
    open: StepId | None = None
    closed: StepId | None = None
    BRANCHES: ClassVar[tuple[str, ...]] = ("open", "closed")


class SoundStep(Step):
    type: Literal["GELUID"]
    sound: str
    next: StepId | None = None
    WAITS: ClassVar[bool] = True


class QueueStep(Step):
    type: Literal["WACHTRIJ"]
    queue: Name
    max_wait: int | None = Field(default=None, ge=10, le=7200)
    next: StepId | None = None
    WAITS: ClassVar[bool] = True


class MenuStep(Step):
    type: Literal["KEUZEMENU"]
    prompt: str = Field(description="sound played before waiting for a digit")
    invalid_sound: str | None = None
    timeout_seconds: int = Field(default=5, ge=1, le=60)
    tries: int = Field(default=3, ge=1, le=10)
    choices: dict[Digit, StepId | None] = Field(min_length=1)
    timeout: StepId | None = None
    invalid: StepId | None = None
    WAITS: ClassVar[bool] = True

    @field_validator("choices", mode="before")
    @classmethod
    def _each_digit_once(cls, value: Any) -> Any:
        # The digits are taken as text, stripped: 1 and "1", or "1" and " 1", would become
        # one choice, the last silently winning. A digit written twice is an error instead.
        if isinstance(value, dict):
            written: dict[str, object] = {}
            for key in value:
                if isinstance(key, bool) or not isinstance(key, str | int):
                    continue  # no digit: the field's own check refuses it
                digit = str(key).strip()
                if digit in written:
                    raise ValueError(
                        f"the digit {digit} is given twice ({written[digit]!r} and {key!r}); "
                        "keep one"
                    )
                written[digit] = key
        return value

    def branches(self) -> dict[str, str | None]:
        named = {f"choices.{digit}": target for digit, target in self.choices.items()}
        return named | {"timeout": self.timeout, "invalid": self.invalid}


class TransferStep(Step):
    type: Literal["DOORVERBINDEN"]
    target: str = Field(description="an extension (240) or an external number")
    ring_time: int = Field(default=30, ge=5, le=600)
    next: StepId | None = Field(default=None, description="when nobody answers")
    WAITS: ClassVar[bool] = True


class RingGroupStep(Step):
    type: Literal["BELGROEP"]
    ring_group: InternalNumber
    next: StepId | None = Field(default=None, description="when nobody answers")
    WAITS: ClassVar[bool] = True


class ConditionStep(Step):
    type: Literal["VOORWAARDE"]
    caller_numbers: list[str] = Field(default_factory=list)
    caller_prefixes: list[Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{1,15}$")]] = Field(
        default_factory=list
    )
    anonymous: bool = Field(default=False, description="match callers who hide their number")
    dialled_numbers: list[str] = Field(default_factory=list)
    switch: bool | None = Field(default=None, description="a manual switch: on matches")
    match: StepId | None = None
    no_match: StepId | None = None
    BRANCHES: ClassVar[tuple[str, ...]] = ("match", "no_match")


class DiversionStep(Step):
    type: Literal["OMLEIDING"]
    destination: str = Field(description="an external number or a destination (call_flow:X)")
    ring_time: int = Field(default=30, ge=5, le=600)
    next: StepId | None = Field(default=None, description="when the diversion fails")
    WAITS: ClassVar[bool] = True


class PrefixStep(Step):
    type: Literal["PREFIX"]
    prefix: Annotated[
        str, StringConstraints(min_length=1, max_length=20, pattern=r"^[^\x00-\x1f]+$")
    ]
    next: StepId | None = None


class VoicemailStep(Step):
    type: Literal["VOICEMAILBOX"]
    box: InternalNumber
    BRANCHES: ClassVar[tuple[str, ...]] = ()
    WAITS: ClassVar[bool] = True


class EmailStep(Step):
    type: Literal["EMAILADRES"]
    email: Email
    next: StepId | None = None


class FaxStep(Step):
    type: Literal["FAX"]
    email: Email | None = Field(default=None, description="else the last EMAILADRES step's")
    BRANCHES: ClassVar[tuple[str, ...]] = ()
    WAITS: ClassVar[bool] = True


class GroupPickupStep(Step):
    """GROEP OP: pick up a call that is ringing in a ring group (our reading; see docs)."""

    type: Literal["GROEP OP"]
    ring_group: InternalNumber
    BRANCHES: ClassVar[tuple[str, ...]] = ()
    WAITS: ClassVar[bool] = True


AnyStep = Annotated[
    TimeConditionStep
    | SoundStep
    | QueueStep
    | MenuStep
    | TransferStep
    | RingGroupStep
    | ConditionStep
    | DiversionStep
    | PrefixStep
    | VoicemailStep
    | EmailStep
    | FaxStep
    | GroupPickupStep,
    Field(discriminator="type"),
]
STEP_TYPES = (
    "FAX",
    "KEUZEMENU",
    "DOORVERBINDEN",
    "TIJDSCONDITIE",
    "VOORWAARDE",
    "BELGROEP",
    "OMLEIDING",
    "GELUID",
    "WACHTRIJ",
    "PREFIX",
    "VOICEMAILBOX",
    "EMAILADRES",
    "GROEP OP",
)


class CallFlow(Document):
    name: Name
    description: str = Field(default="", max_length=300)
    start: StepId | None = Field(
        default=None, description="the first step; the first listed if absent"
    )
    steps: list[AnyStep] = Field(min_length=1)

    def start_step(self) -> str:
        """The id of the step a call enters first."""
        return self.start or self.steps[0].id


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
