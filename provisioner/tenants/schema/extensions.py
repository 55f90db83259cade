"""Who answers calls: sites, extensions, voicemail boxes, ring groups and queues."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from provisioner.tenants.schema.base import (
    SIP_PASSWORD_PATTERN,
    Document,
    Email,
    ExtensionNumber,
    InternalNumber,
    Name,
    parse_destination,
)


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


QueueStrategy = Literal[
    "ring-all",
    "longest-idle-agent",
    "round-robin",
    "top-down",
    "agent-with-least-talk-time",
    "agent-with-fewest-calls",
    "sequentially-by-agent-order",
    "random",
]


class Queue(Document):
    name: Name
    number: InternalNumber | None = None
    strategy: QueueStrategy = "longest-idle-agent"
    agents: list[ExtensionNumber] = Field(default_factory=list)
    max_wait: int = Field(default=300, ge=10, le=7200, description="seconds before the exit")
    music: str | None = Field(
        default=None, description="a sound name; default hold music if absent"
    )
