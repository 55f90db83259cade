"""The call-flow engine: walks a tenant's call flow for one call, step after step.

Pure: every effect on the call goes through a ``CallAdapter`` (answer, play, collect a digit,
bridge, queue, voicemail, fax, pickup), so the walk runs the same against FreeSWITCH and in
tests. It iterates and never recurses (mod_python3 caps recursion at 240 frames), stops as soon
as the caller is gone, and never leaves a caller in silence: a step that fails or points
nowhere falls through to the tenant's fallback, else a voicemail box, else a polite goodbye.

The route it walks is the JSON the server serves at ``/freeswitch/flows/<tenant>/<number>``
(see ``provisioner.routing.route``).

Over 400 lines on purpose: it is one class, ``Walk``, whose step handlers share the walk's
state (position, whether the caller is still there, the fallback), and the loop that must
never recurse is easiest to check when every step it dispatches to is beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioner.routing import dialstrings
from provisioner.routing.adapter import CallAdapter
from provisioner.routing.conditions import caller_matches
from provisioner.routing.queue_members import QueueMembers
from provisioner.routing.timeconditions import is_open

# A safety net only: every loop a flow may contain waits for the caller (validation refuses the
# others), so a real call never takes this many steps.
MAX_STEPS = 500
DIVERSION_HEADER = "sip_h_Diversion"
# A caller number the carrier can show: international or national, not an extension.
OUTSIDE_CALLER = re.compile(r"\+?[1-9][0-9]{6,14}|0[0-9]{8,14}")

Json = Mapping[str, Any]


class StepFailed(Exception):
    """A step cannot run (a missing sound, queue, group or step); the fallback takes over."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where the walk is: a step of a flow, or a destination such as ``voicemail:8000``."""

    flow: str = ""
    step: str = ""
    destination: str = ""

    def __str__(self) -> str:
        return self.destination or f"{self.flow}/{self.step}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a step leads to: a position, the end of the call, or a polite goodbye."""

    position: Position | None = None
    done: bool = False


GOODBYE = Outcome()
DONE = Outcome(done=True)


@dataclass
class Walk:
    """One call's walk through a route, with what happened on the way."""

    route: Json
    adapter: CallAdapter
    visited: list[str] = field(default_factory=list)
    email: str | None = None
    fallbacks_tried: int = 0

    def run(self) -> list[str]:
        """Walk from the route's entry until the call ends; return the positions visited."""
        position: Position | None = self._start()
        for _ in range(MAX_STEPS):
            if position is None or not self.adapter.ready():
                return self.visited
            self.visited.append(str(position))
            outcome = self._attempt(position)
            if outcome.done:
                return self.visited
            position = outcome.position
            if position is None:
                self._goodbye()
                return self.visited
        self.adapter.log("err", f"call flow still running after {MAX_STEPS} steps; ending it")
        self._goodbye()
        return self.visited

    def _start(self) -> Position:
        number = str(self.route.get("number", ""))
        if number in self.route.get("emergency_numbers", ()):
            return Position(destination=f"external:{number}")
        return Position(destination=str(self.route.get("entry") or "hangup"))

    def _attempt(self, position: Position) -> Outcome:
        try:
            if position.destination:
                return self._run_destination(position.destination)
            return self._run_step(position)
        except StepFailed as exc:
            self.adapter.log("warning", f"{position}: {exc}; using the fallback")
        except Exception as exc:  # noqa: BLE001 - a broken step must never silence the call
            self.adapter.log("err", f"{position}: {type(exc).__name__}: {exc}; using the fallback")
        return self._fallback(position)

    def _fallback(self, failed: Position) -> Outcome:
        """The tenant's fallback, else a voicemail box, else goodbye; each tried once."""
        box = self.route.get("default_voicemail")
        options = [self.route.get("fallback"), f"voicemail:{box}" if box else None]
        while self.fallbacks_tried < len(options):
            option = options[self.fallbacks_tried]
            self.fallbacks_tried += 1
            if option and option != failed.destination:
                return Outcome(Position(destination=option))
        return GOODBYE

    def _goodbye(self) -> None:
        if self.adapter.ready():
            self.adapter.answer()
            self.adapter.play_file(dialstrings.GOODBYE_SOUND)
            self.adapter.hangup()

    # --- Steps -------------------------------------------------------------------------------

    def _run_step(self, position: Position) -> Outcome:
        flow = self.route.get("call_flows", {}).get(position.flow)
        if flow is None:
            raise StepFailed(f"call flow {position.flow} does not exist")
        step = flow["steps"].get(position.step)
        if step is None:
            raise StepFailed(f"step {position.step} does not exist")
        runner = STEP_RUNNERS.get(step["type"])
        if runner is None:
            raise StepFailed(f"step type {step['type']} is unknown")
        return runner(self, step, position.flow)

    def next_in(self, flow: str, step_id: str | None) -> Outcome:
        """The outcome that continues at ``step_id`` of ``flow`` (None: goodbye)."""
        return GOODBYE if step_id is None else Outcome(Position(flow=flow, step=step_id))

    def time_condition(self, step: Json, flow: str) -> Outcome:
        """TIJDSCONDITIE: branch open or closed on the tenant's wall clock."""
        condition = self._lookup("time_conditions", step["time_condition"], "time condition")
        timezone = str(self.route.get("timezone") or "Europe/Amsterdam")
        branch = "open" if is_open(condition, timezone, self.adapter.now()) else "closed"
        return self.next_in(flow, step.get(branch))

    def sound(self, step: Json, flow: str) -> Outcome:
        """GELUID: play a sound, then go on."""
        self._play(step["sound"])
        return self.next_in(flow, step.get("next"))

    def queue(self, step: Json, flow: str) -> Outcome:
        """WACHTRIJ: wait for an agent; after the maximum wait, take the exit step."""
        if self._enter_queue(str(step["queue"]), step.get("max_wait")):
            return DONE
        return self.next_in(flow, step.get("next"))

    def menu(self, step: Json, flow: str) -> Outcome:
        """KEUZEMENU: a key picks the branch; silence and wrong keys are retried ``tries`` times."""
        self.adapter.answer()
        self._require_sound(step["prompt"])
        choices: Mapping[str, str | None] = step["choices"]
        last = "timeout"
        for _ in range(int(step.get("tries", 3))):
            if not self.adapter.ready():
                return DONE
            digit = self.adapter.read_digit(
                step["prompt"], int(step.get("timeout_seconds", 5)) * 1000
            )
            if digit in choices:
                return self.next_in(flow, choices[digit])
            last = "timeout" if digit == "" else "invalid"
            if last == "invalid" and step.get("invalid_sound") and self.adapter.ready():
                self._play(step["invalid_sound"])
        return self.next_in(flow, step.get(last))

    def transfer(self, step: Json, flow: str) -> Outcome:
        """DOORVERBINDEN: ring an extension or an outside number; no answer takes ``next``."""
        if self._bridge([[self._endpoint(str(step["target"]))]], int(step.get("ring_time", 30))):
            return DONE
        return self.next_in(flow, step.get("next"))

    def ring_group(self, step: Json, flow: str) -> Outcome:
        """BELGROEP: ring the group's members at once or in turn; no answer takes ``next``."""
        outcome = self._ring_group(str(step["ring_group"]))
        if outcome.done or step.get("next") is None:
            return outcome
        return self.next_in(flow, step.get("next"))

    def condition(self, step: Json, flow: str) -> Outcome:
        """VOORWAARDE: branch on the caller's number, the dialled number or a switch."""
        matched = caller_matches(step, self._caller_number(), self.route)
        return self.next_in(flow, step.get("match" if matched else "no_match"))

    def diversion(self, step: Json, flow: str) -> Outcome:
        """OMLEIDING: forward to a number or destination, telling the far end who diverted.

        A number rings for the step's ``ring_time`` and, unanswered, goes on at ``next``,
        however it is written: ``+31612345678``, ``external:+31612345678`` or ``extension:240``.
        Other destinations (a flow, a box, a group, a queue, ``hangup``) are jumped to.
        """
        target = str(step["destination"])
        kind, separator, value = target.partition(":")
        if separator and kind == "external":
            endpoint = self._gateway(value)
        elif separator and kind == "extension":
            self._lookup("extensions", value, "extension")
            endpoint = dialstrings.user_leg(value, self._domain())
        elif separator or target == "hangup":
            return Outcome(Position(destination=target))
        else:
            endpoint = self._endpoint(target)
        dialled = str(self.route.get("number", ""))
        self.adapter.set_variable(
            DIVERSION_HEADER, f"<sip:{dialled}@{self._domain()}>;reason=unconditional"
        )
        try:
            answered = self._bridge([[endpoint]], int(step.get("ring_time", 30)))
        finally:
            # The header is this bridge's only: a later one of the same call (the next step
            # ringing a colleague) must not tell its callee the call was diverted.
            self.adapter.set_variable(DIVERSION_HEADER, "")
        if answered:
            return DONE
        return self.next_in(flow, step.get("next"))

    def prefix(self, step: Json, flow: str) -> Outcome:
        """PREFIX: put a prefix before the caller's name shown to whoever answers."""
        name = self.adapter.variable("caller_id_name") or self._caller_number()
        self.adapter.set_variable("effective_caller_id_name", f"{step['prefix']} {name}".strip())
        return self.next_in(flow, step.get("next"))

    def voicemail_box(self, step: Json, flow: str) -> Outcome:
        """VOICEMAILBOX: leave a message."""
        return self._run_destination(f"voicemail:{step['box']}")

    def email_address(self, step: Json, flow: str) -> Outcome:
        """EMAILADRES: remember where a following fax goes."""
        self.email = str(step["email"])
        self.adapter.set_variable("provisioner_email", self.email)
        return self.next_in(flow, step.get("next"))

    def fax(self, step: Json, flow: str) -> Outcome:
        """FAX: receive a fax; it is mailed as PDF once the call is over."""
        email = step.get("email") or self.email
        if not email:
            raise StepFailed("no e-mail address for the fax; add one or an EMAILADRES step")
        self.adapter.answer()
        self.adapter.receive_fax(str(email))
        return DONE

    def group_pickup(self, step: Json, flow: str) -> Outcome:
        """GROEP OP: answer a call that is ringing in the ring group."""
        self._lookup("ring_groups", step["ring_group"], "ring group")
        self.adapter.pickup(dialstrings.pickup_key(str(step["ring_group"]), self._domain()))
        return DONE

    # --- Destinations ------------------------------------------------------------------------

    def _run_destination(self, destination: str) -> Outcome:
        kind, _, value = destination.partition(":")
        if kind == "call_flow":
            flow = self._lookup("call_flows", value, "call flow")
            return Outcome(Position(flow=value, step=str(flow["start"])))
        if kind == "extension":
            return self._extension(value)
        if kind == "voicemail":
            if value not in self.route.get("voicemail_boxes", ()):
                raise StepFailed(f"voicemail box {value} does not exist")
            self.adapter.answer()
            self.adapter.voicemail(self._domain(), value)
            return DONE
        if kind == "ring_group":
            return self._ring_group(value)
        if kind == "queue":
            return DONE if self._enter_queue(value, None) else GOODBYE
        if kind == "external":
            return DONE if self._bridge([[self._gateway(value)]], 60) else GOODBYE
        if kind == "hangup":
            self.adapter.hangup()
            return DONE
        raise StepFailed(f"{destination!r} is not a destination")

    def _extension(self, number: str) -> Outcome:
        extension = self._lookup("extensions", number, "extension")
        if self._bridge([[dialstrings.user_leg(number, self._domain())]], 30):
            return DONE
        if extension.get("voicemail"):
            return Outcome(Position(destination=f"voicemail:{number}"))
        return GOODBYE

    def _ring_group(self, number: str) -> Outcome:
        group = self._lookup("ring_groups", number, "ring group")
        members = [dialstrings.user_leg(member, self._domain()) for member in group["members"]]
        if not members:
            raise StepFailed(f"ring group {number} has no members")
        pickup = "pickup/" + dialstrings.pickup_key(number, self._domain())
        if group.get("strategy") == "sequential":
            groups = [[member, pickup] for member in members]
        else:
            groups = [[*members, pickup]]
        if self._bridge(groups, int(group.get("ring_time", 30))):
            return DONE
        if group.get("no_answer"):
            return Outcome(Position(destination=str(group["no_answer"])))
        return GOODBYE

    # --- Helpers -----------------------------------------------------------------------------

    def _bridge(self, groups: list[list[str]], ring_time: int) -> bool:
        self.adapter.set_variable("hangup_after_bridge", "true")
        self.adapter.set_variable("continue_on_fail", "true")
        total = ring_time * len(groups)
        self.adapter.set_variable("call_timeout", str(total))
        return self.adapter.bridge(dialstrings.dial_string(groups, ring_time), total)

    def _enter_queue(self, name: str, max_wait: int | None) -> bool:
        queue = self._lookup("queues", name, "queue")
        self.adapter.answer()
        address = dialstrings.queue_address(name, self._domain(), max_wait)
        members = self._queue_members(queue, address, max_wait)
        return self.adapter.enter_queue(address, queue.get("music"), members)

    def _queue_members(
        self, queue: Json, address: str, max_wait: int | None
    ) -> QueueMembers | None:
        """The queue's agents and settings as the server sent them (None in a route cached
        before they were)."""
        if "agents" not in queue:
            return None
        settings = {}
        if queue.get("strategy"):
            settings["strategy"] = str(queue["strategy"])
        if max_wait or queue.get("max_wait"):
            settings["max_wait_time"] = str(max_wait or queue["max_wait"])
        domain = self._domain()
        every = {
            dialstrings.agent_name(number, domain)
            for other in self.route.get("queues", {}).values()
            for number in other.get("agents", ())
        }
        agents = [dialstrings.agent_name(str(number), domain) for number in queue["agents"]]
        return QueueMembers(address, agents, frozenset(every), settings)

    def _endpoint(self, target: str) -> str:
        if target.isdigit() and target in self.route.get("extensions", {}):
            return dialstrings.user_leg(target, self._domain())
        return self._gateway(target)

    def _gateway(self, number: str) -> str:
        """The endpoint of an outside number. A caller the carrier could not show (an
        extension calling in) leaves with the tenant's main number, as the dialplan's
        outside calls do; an outside caller keeps their own (a diversion says who diverted)."""
        main_number = self.route.get("main_number")
        if main_number and not OUTSIDE_CALLER.fullmatch(self._caller_number()):
            self.adapter.set_variable("effective_caller_id_number", str(main_number))
        return dialstrings.gateway_leg(number, str(self.route.get("gateway") or "provider"))

    def _play(self, sound: str) -> None:
        self.adapter.answer()
        if not self.adapter.play(sound):
            raise StepFailed(f"sound {sound} cannot be played")

    def _require_sound(self, sound: str) -> None:
        if sound not in self.route.get("sounds", {}):
            raise StepFailed(f"sound {sound} does not exist")

    def _lookup(self, collection: str, key: str, noun: str) -> Json:
        item: Json | None = self.route.get(collection, {}).get(key)
        if item is None:
            raise StepFailed(f"{noun} {key} does not exist")
        return item

    def _domain(self) -> str:
        return str(self.route["domain"])

    def _caller_number(self) -> str:
        return (self.adapter.variable("caller_id_number") or "").strip()


StepRunner = Callable[[Walk, Json, str], Outcome]
STEP_RUNNERS: dict[str, StepRunner] = {
    "TIJDSCONDITIE": Walk.time_condition,
    "GELUID": Walk.sound,
    "WACHTRIJ": Walk.queue,
    "KEUZEMENU": Walk.menu,
    "DOORVERBINDEN": Walk.transfer,
    "BELGROEP": Walk.ring_group,
    "VOORWAARDE": Walk.condition,
    "OMLEIDING": Walk.diversion,
    "PREFIX": Walk.prefix,
    "VOICEMAILBOX": Walk.voicemail_box,
    "EMAILADRES": Walk.email_address,
    "FAX": Walk.fax,
    "GROEP OP": Walk.group_pickup,
}


def walk(route: Json, adapter: CallAdapter) -> list[str]:
    """Run one call through ``route``; return the positions it visited (for the log)."""
    return Walk(route, adapter).run()
