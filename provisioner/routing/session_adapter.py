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

# mod_python3's levels for consoleLog.
LOG_LEVELS = {"info": "info", "warning": "warning", "err": "err", "debug": "debug"}
SHORT_SILENCE = "silence_stream://250"
DIGIT_VARIABLE = "provisioner_digit"


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
        """Ring; True when answered (or when the caller is gone after talking)."""
        self.session.execute("bridge", dial_string)
        if not self.session.ready():
            return True
        return bool(self.session.getVariable("originate_disposition") == "SUCCESS")

    def enter_queue(self, address: str, music: str | None) -> bool:
        """Wait in the queue; True when an agent took the call."""
        music_path = self.sound_path(music) if music else None
        if music_path:
            # The tenant's own hold music instead of the queue's moh-sound.
            self.session.setVariable("cc_moh_override", music_path)
        # mod_callcenter keeps a queue once loaded; reloading it from the server first makes a
        # change to the queue, its agents or tiers count from the very next caller.
        self.freeswitch.API().executeString(f"callcenter_config queue reload {address}")
        self.session.setVariable("hangup_after_bridge", "true")
        self.session.execute("callcenter", address)
        if not self.session.ready():
            return True
        return bool(self.session.getVariable("cc_cause") == "answered")

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
        """The switch's clock (``API().getTime()``: milliseconds since the epoch)."""
        try:
            milliseconds = int(self.freeswitch.API().getTime())
        except (AttributeError, TypeError, ValueError):
            return datetime.now(UTC)
        return datetime.fromtimestamp(milliseconds / 1000, UTC)
