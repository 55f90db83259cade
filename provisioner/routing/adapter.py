"""What the call-flow engine asks of a call; ``session_adapter`` implements it for FreeSWITCH."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from provisioner.routing.queue_members import QueueMembers


class CallAdapter(Protocol):
    """What the engine asks of the call; the FreeSWITCH version lives in ``session_adapter``."""

    def ready(self) -> bool:
        """True while the caller is still there."""

    def answer(self) -> None:
        """Answer the call (once; later calls do nothing)."""

    def play(self, sound: str) -> bool:
        """Play a tenant sound by name; False when it cannot be found."""

    def play_file(self, path: str) -> None:
        """Play a stock FreeSWITCH sound."""

    def read_digit(self, prompt: str, timeout_ms: int) -> str:
        """Play ``prompt`` and return the key pressed, or "" after ``timeout_ms`` of silence."""

    def bridge(self, dial_string: str, ring_time: int) -> bool:
        """Ring ``dial_string``; True when someone answered."""

    def enter_queue(self, address: str, music: str | None, members: QueueMembers | None) -> bool:
        """Wait in a mod_callcenter queue (hearing ``music``, a tenant sound, if given), after
        bringing the switch's agents of the queue in line with ``members`` (None: as they are);
        True when an agent took the call."""

    def voicemail(self, domain: str, box: str) -> None:
        """Let the caller leave a message in ``box``."""

    def receive_fax(self, email: str) -> None:
        """Receive a fax and deliver it to ``email`` as PDF."""

    def pickup(self, key: str) -> None:
        """Pick up a call ringing under ``key``."""

    def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable."""

    def variable(self, name: str) -> str | None:
        """Read a channel variable."""

    def hangup(self) -> None:
        """End the call normally."""

    def log(self, level: str, message: str) -> None:
        """Write to FreeSWITCH's log (levels: info, warning, err)."""

    def now(self) -> datetime:
        """The current moment, aware."""
