"""What a call meets first: numbers and their destinations, time conditions (weekly hours,
holidays, dates) and the sounds played."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from provisioner.tenants.schema.base import (
    ClockTime,
    Document,
    Name,
    Weekday,
    parse_destination,
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
