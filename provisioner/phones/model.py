"""Value objects of the phone domain: what a request says, and the vendor-neutral config."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FileKind(StrEnum):
    """What a requested file is for, which decides how it is answered."""

    DEVICE = "device"  # per MAC: the full config for a proven phone, else the bootstrap
    COMMON = "common"  # the same for every phone of the model; never a secret
    ABSENT = "absent"  # deliberately 404, the phone moves on to its next name
    UPLOAD = "upload"  # the phone PUTs it (Poly logs and overrides)


class Answer(StrEnum):
    """How a request was answered, as the device timeline shows it."""

    FULL = "full"
    BOOTSTRAP = "bootstrap"
    NOT_FOUND = "not found"
    DENIED = "denied"
    STORED = "stored"
    UPGRADED = "upgraded"  # a firmware rollout: the phone reports the target version now
    UPGRADE_FAILED = "upgrade failed"  # it reports its old version again after the attempt
    # Seen on a customer LAN by the on-site agent (zerotouch discover), not a request of ours.
    REPORTED = "reported"


class EventKind(StrEnum):
    """What happened to a request, finer than its Answer: the device timeline's word for it."""

    FULL_CREDENTIALS = "full-credentials"
    FULL_FIRST_USE = "full-first-use"
    FULL_CERTIFICATE = "full-certificate"  # proved by its factory certificate (mutual TLS)
    BOOTSTRAP = "bootstrap"
    CHALLENGE = "challenge"  # 401 without credentials: the first leg of every Digest fetch
    WRONG_CREDENTIALS = "wrong-credentials"
    FIRST_USE_CONFLICT = "first-use-conflict"
    CERTIFICATE_MISMATCH = "certificate-mismatch"  # a vendor certificate naming another MAC
    FIRST_USE_REFUSED = "first-use-refused"  # the source has too many misses for the window
    MISMATCH = "mismatch"  # vendor, User-Agent MAC, lines or site network do not fit
    THROTTLED = "throttled"
    NOT_FOUND = "not-found"
    STORED = "stored"
    REPORTED = "reported"  # seen on a customer LAN by the on-site agent, not a request of ours
    FAILED = "failed"


# PER_REQUEST: the records made on each phone request (this one, FileRequest, the HTTP side's
# Fetch and PlainAnswer, authorize's Asked, Decision and FullFile, render's PhoneAnswer, the
# timeline's PendingEvent, credentials' Proof, the firmware directive's, FileKey) are slotted
# dataclasses that are not frozen: a frozen one's __init__ costs four times as much (each field
# set through object.__setattr__), about 0.8 us each, several times per request. Nothing
# changes them once made.
@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class RequestInfo:
    """One request as a front end (HTTP or TFTP) saw it; ``route`` is ``/p/`` or ``/p/a/``
    over HTTP, empty over TFTP; ``method`` is HTTP's (a TFTP read counts as a GET)."""

    path: str
    source: str
    protocol: str = "http"
    user_agent: str = ""
    route: str = ""
    method: str = "GET"


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the User-Agent or the file name says about the phone."""

    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    mac: str | None = None


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class FileRequest:
    """An identified request: the vendor module to answer it, and what kind of file it is."""

    vendor: str
    kind: FileKind
    file: str
    mac: str | None
    model: str | None
    firmware: str | None
    agent_mac: str | None = None  # the MAC the User-Agent claims, when it gives one


@dataclass(frozen=True, slots=True)
class TimeZoneRule:
    """A time zone as phones want it: offsets and the daylight-saving rule, all local times."""

    name: str
    standard_offset_minutes: int
    summer_offset_minutes: int
    start_month: int = 0
    start_week: int = 0  # 1-4, or 5 meaning the last one of the month
    start_weekday: int = 0  # 0 Monday .. 6 Sunday
    start_hour: int = 0
    end_month: int = 0
    end_week: int = 0
    end_weekday: int = 0
    end_hour: int = 0

    @property
    def has_summer_time(self) -> bool:
        """True when the zone changes its offset during the year."""
        return self.summer_offset_minutes != self.standard_offset_minutes


@dataclass(frozen=True, slots=True)
class SipLine:
    """One SIP account on the phone."""

    index: int
    number: str
    display_name: str
    auth_name: str
    password: str
    label: str


@dataclass(frozen=True, slots=True)
class Key:
    """One function key, numbered after the line keys (position 1 is the first key)."""

    position: int
    type: str
    value: str
    label: str
    line: int = 1


@dataclass(frozen=True, slots=True)
class PhoneConfig:
    """Everything a vendor renderer needs, and nothing vendor-specific.

    The bootstrap config has no MAC, no lines, no keys and no secrets, so its rendering is the
    same for every phone of a model.
    """

    vendor: str
    model: str | None
    provisioning_url: str
    timezone: TimeZoneRule
    language: str
    ntp_server: str
    resync_seconds: int
    mac: str | None = None
    registrar: str | None = None
    registrar_port: int = 5060
    transport: str = "udp"
    vlan: int | None = None
    lines: tuple[SipLine, ...] = ()
    keys: tuple[Key, ...] = ()
    pickup_prefix: str = "*8"
    provisioning_username: str | None = None
    provisioning_password: str | None = None
    admin_password: str | None = None
    firmware_url: str | None = None  # set only while the phone should fetch a new image
    firmware_version: str | None = None  # the version that image installs
    overrides: tuple[tuple[str, str], ...] = field(default=())
    # When the full config was built (seconds since the epoch): a window a file opens (Gigaset's
    # DECT registration) starts then. None in the bootstrap, which opens nothing.
    issued_at: int | None = None
    # The device's file key: first in a file sent over a trusted channel (HTTPS or a proven
    # factory certificate), then in every file, encrypted with it; the phone decrypts its
    # later files with it.
    file_key: str | None = None

    @property
    def is_bootstrap(self) -> bool:
        """True for the generic answer without accounts."""
        return not self.lines
