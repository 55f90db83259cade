"""Call flows: a graph of steps, one model per step type (the platform's 13), told apart by
``type``."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints, field_validator

from provisioner.tenants.schema.base import (
    Digit,
    Document,
    Email,
    InternalNumber,
    Name,
    StepId,
)


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
