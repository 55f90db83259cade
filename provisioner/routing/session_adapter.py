"""The engine's adapter over a FreeSWITCH session: each request becomes a dialplan application.

Used inside FreeSWITCH by ``provisioner.callrouting``; ``freeswitch`` (the SWIG module only the
switch can import) is passed in, so this module imports without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from provisioner.routing import dialstrings
from provisioner.routing.queue_members import QueueMembers, synchronise

# mod_python3's levels for consoleLog.
LOG_LEVELS = {"info": "info", "warning": "warning", "err": "err", "debug": "debug"}
SHORT_SILENCE = "silence_stream://250"
DIGIT_VARIABLE = "provisioner_digit"
ANSWERED_DISPOSITION = "call accepted"
BRIDGE_OUTCOME_VARIABLES = ("originate_disposition", "bridge_hangup_cause")
# A global variable an operator may set (fs_cli -x "global_setvar provisioner_clock=...") to try
# time conditions at another moment; unset it (empty) to go back to the real clock.
CLOCK_VARIABLE = "provisioner_clock"


@dataclass
class PendingFax:
    """A fax received during the call, mailed once the call is over."""

    tiff_path: str
    email: str


@dataclass
class SessionAdapter:
    """Carries out the engine's requests on one FreeSWITCH ``session``."""

    session: Any
    freeswitch: Any
    sound_path: Callable[[str], str | None]
    fax_directory: str = "/tmp"
    faxes: list[PendingFax] = field(default_factory=list)

    def ready(self) -> bool:
        """True while the caller is still there."""
        return bool(self.session.ready())

    def answer(self) -> None:
        """Answer once; prompts need an answered call."""
        if not self.session.answered():
            self.session.answer()

    def play(self, sound: str) -> bool:
        """Play a tenant sound from the local sound cache."""
        path = self.sound_path(sound)
        if path is None:
            return False
        self.session.execute("playback", path)
        return True

    def play_file(self, path: str) -> None:
        """Play a stock sound (relative to FreeSWITCH's sound prefix)."""
        self.session.execute("playback", path)

    def read_digit(self, prompt: str, timeout_ms: int) -> str:
        """One key with play_and_get_digits; any key is accepted, the engine judges it."""
        path = self.sound_path(prompt) or SHORT_SILENCE
        self.session.setVariable(DIGIT_VARIABLE, "")
        arguments = f"1 1 1 {timeout_ms} none {path} {SHORT_SILENCE} {DIGIT_VARIABLE} [0-9*#]"
        self.session.execute("play_and_get_digits", arguments)
        return self.session.getVariable(DIGIT_VARIABLE) or ""

    def bridge(self, dial_string: str, ring_time: int) -> bool:
        """Ring; True when a leg answered, whether or not the caller is still there after.

        FreeSWITCH sets ``originate_disposition`` to ``call accepted`` when a leg answers and
        to the cause (``NO_ANSWER``, ``USER_BUSY`` ...) when none does; ``bridge_hangup_cause``
        is set only once the two legs were bridged. Both are cleared first, so a value left by
        an earlier bridge of this call is never read as this one's.
        """
        for name in BRIDGE_OUTCOME_VARIABLES:
            self.session.setVariable(name, "")
        self.session.execute("bridge", dial_string)
        disposition = self.session.getVariable("originate_disposition") or ""
        bridged_cause = self.session.getVariable("bridge_hangup_cause") or ""
        return disposition.lower() == ANSWERED_DISPOSITION or bool(bridged_cause)

    def enter_queue(self, address: str, music: str | None, members: QueueMembers | None) -> bool:
        """Wait in the queue; True when an agent took the call.

        With ``members`` (the queue's agents as the server has them), the switch's tiers of
        the queue are first brought in line, so a member taken out stops ringing from this
        caller on; agents' statuses are left to the switch.
        """
        music_path = self.sound_path(music) if music else None
        if music_path:
            # The tenant's own hold music instead of the queue's moh-sound.
            self.session.setVariable("cc_moh_override", music_path)
        if members is not None:
            self._synchronise_queue(members)
        self.session.setVariable("hangup_after_bridge", "true")
        self.session.execute("callcenter", address)
        if not self.session.ready():
            return True
        return bool(self.session.getVariable("cc_cause") == "answered")

    def _synchronise_queue(self, members: QueueMembers) -> None:
        api = self.freeswitch.API()
        try:
            changes = synchronise(members, lambda command: str(api.executeString(command)))
        except Exception as exc:  # noqa: BLE001 - the caller still waits in the queue
            self.log("warning", f"queue {members.address} not synchronised: {exc}")
            return
        if changes:
            self.log("info", f"queue {members.address}: " + "; ".join(changes))

    def voicemail(self, domain: str, box: str) -> None:
        """Leave a message in ``box``."""
        self.session.execute("voicemail", f"{dialstrings.VOICEMAIL_PROFILE} {domain} {box}")

    def receive_fax(self, email: str) -> None:
        """Receive into a TIFF named after the call; mailing waits for the hang-up."""
        tiff_path = os.path.join(self.fax_directory, f"fax-{self.session.uuid}.tif")
        self.session.setVariable("fax_enable_t38", "true")
        self.session.execute("rxfax", tiff_path)
        if self.session.getVariable("fax_success") == "1":
            self.faxes.append(PendingFax(tiff_path, email))
        else:
            self.log("warning", f"fax not received: {self.session.getVariable('fax_result_text')}")

    def pickup(self, key: str) -> None:
        """Take over a call ringing under ``key``."""
        self.session.execute("pickup", key)

    def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable."""
        self.session.setVariable(name, value)

    def variable(self, name: str) -> str | None:
        """Read a channel variable."""
        value = self.session.getVariable(name)
        return None if value is None else str(value)

    def hangup(self) -> None:
        """End the call normally."""
        self.session.hangup("NORMAL_CLEARING")

    def log(self, level: str, message: str) -> None:
        """Log through FreeSWITCH (``print`` would go to its stdout, not its log)."""
        self.freeswitch.consoleLog(LOG_LEVELS.get(level, "info"), f"provisioner: {message}\n")

    def now(self) -> datetime:
        """The switch's clock (``API().getTime()``: milliseconds since the epoch), unless the
        operator set the global variable ``provisioner_clock`` (an ISO 8601 moment with its
        offset) to try a flow at another time: time conditions then read that moment."""
        clock = self.freeswitch.getGlobalVariable(CLOCK_VARIABLE)
        if clock:
            try:
                moment = datetime.fromisoformat(str(clock))
            except ValueError:
                self.log("err", f"{CLOCK_VARIABLE}={clock!r} is not an ISO 8601 moment; ignored")
            else:
                if moment.tzinfo is not None:
                    self.log("warning", f"{CLOCK_VARIABLE} is set: the flow reads {clock}")
                    return moment
                self.log("err", f"{CLOCK_VARIABLE}={clock!r} has no UTC offset; ignored")
        try:
            milliseconds = int(self.freeswitch.API().getTime())
        except (AttributeError, TypeError, ValueError):
            return datetime.now(UTC)
        return datetime.fromtimestamp(milliseconds / 1000, UTC)
