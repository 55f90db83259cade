"""A stand-in for FreeSWITCH's ``freeswitch`` module (the mod_python3 SWIG API) and a caller.

It follows the surface in shared/reference/freeswitch.md §1.5: module functions (``consoleLog``,
``getGlobalVariable``, ``email`` ...), ``API`` (``execute``, ``executeString``, ``getTime``) and
``Session`` with the methods the handler uses. Applications run through ``Session.execute``
act like the real ones as far as the handler can see: they set the variables FreeSWITCH sets
(``originate_disposition``, ``cc_cause``, the play_and_get_digits variable, ``fax_success``)
and block on the scripted caller, who may press keys, stay silent or hang up at any moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Every Session method named in the reference (§1.5); the fake implements the ones in use.
REFERENCE_SESSION_METHODS = frozenset(
    "answer preAnswer hangup hangupCause hangupState ready answered bridged mediaReady getState "
    "setVariable getVariable setPrivate getPrivate execute transfer streamFile sleep recordFile "
    "playAndGetDigits getDigits read collectDigits flushDigits flushEvents say sayPhrase speak "
    "set_tts_params originate waitForAnswer setAutoHangup sendEvent setEventData getXMLCDR "
    "insertFile detectSpeech playAndDetectSpeech consoleLog destroy setHangupHook "
    "setInputCallback unsetInputCallback".split()
)
BLOCKING_APPLICATIONS = frozenset(
    {"playback", "play_and_get_digits", "bridge", "callcenter", "voicemail", "rxfax", "pickup"}
)


@dataclass(frozen=True)
class Press:
    """The caller presses a key when asked for one."""

    digit: str


@dataclass(frozen=True)
class Silence:
    """The caller presses nothing until the timeout."""


@dataclass(frozen=True)
class HangUp:
    """The caller hangs up: during the next blocking application, or the ``nth`` ``during``."""

    during: str | None = None
    nth: int = 1


@dataclass
class Caller:
    """What the caller does, in order, and who answers when rung."""

    script: list[Any] = field(default_factory=list)
    answering: set[str] = field(default_factory=set)
    agent_answers: bool = False
    number: str = "0612345678"
    name: str = "Jan Klant"
    fax_content: bytes | None = None


class Session:
    """A call as mod_python3 hands it to ``handler(session, args)``."""

    def __init__(self, caller: Caller, destination: str = "5000", uuid: str = "call-1") -> None:
        self.caller = caller
        self.uuid = uuid
        self.variables: dict[str, str] = {
            "caller_id_number": caller.number,
            "caller_id_name": caller.name,
            "destination_number": destination,
        }
        self.applications: list[tuple[str, str]] = []
        self.events: list[tuple[str, ...]] = []
        self.up = True
        self.is_answered = False
        self.hangup_cause = ""
        self.runs: dict[str, int] = {}

    # --- state -------------------------------------------------------------------------------
    def ready(self) -> bool:
        return self.up

    def answered(self) -> bool:
        return self.is_answered

    def mediaReady(self) -> bool:  # noqa: N802 - the SWIG name
        return self.up

    def bridged(self) -> bool:
        return False

    def getState(self) -> str:  # noqa: N802
        return "CS_EXECUTE" if self.up else "CS_HANGUP"

    def hangupCause(self) -> str:  # noqa: N802
        return self.hangup_cause

    def answer(self) -> None:
        self.events.append(("answer",))
        self.is_answered = True

    def preAnswer(self) -> None:  # noqa: N802
        self.events.append(("pre_answer",))

    def hangup(self, cause: str = "normal_clearing") -> None:
        self.events.append(("hangup", cause))
        self._end(cause)

    def setVariable(self, name: str, value: str) -> None:  # noqa: N802
        self.events.append(("set", name, value))
        self.variables[name] = value

    def getVariable(self, name: str) -> str | None:  # noqa: N802
        return self.variables.get(name)

    def setHangupHook(self, function: Any, argument: Any = None) -> None:  # noqa: N802
        self.hangup_hook = (function, argument)

    def consoleLog(self, level: str, message: str) -> None:  # noqa: N802
        self.events.append(("log", level, message))

    def streamFile(self, path: str, start_sample: int = 0) -> None:  # noqa: N802
        self.execute("playback", path)

    def sleep(self, milliseconds: int, sync: int = 0) -> None:
        self.events.append(("sleep", str(milliseconds)))

    def transfer(self, extension: str, dialplan: str = "XML", context: str = "") -> None:
        self.events.append(("transfer", extension, dialplan, context))
        self.applications.append(("transfer", f"{extension} {dialplan} {context}".strip()))

    # --- applications ------------------------------------------------------------------------
    def execute(self, application: str, data: str | None = None) -> None:
        """Run a dialplan application as FreeSWITCH would (blocking on the caller)."""
        data = data or ""
        self.applications.append((application, data))
        self.events.append(("execute", application, data))
        if not self.up:
            return
        self.runs[application] = self.runs.get(application, 0) + 1
        if application in BLOCKING_APPLICATIONS and self._hangs_up_now(application):
            self._end("NORMAL_CLEARING")
            return
        runner = getattr(self, "_app_" + application, None)
        if runner is not None:
            runner(data)

    def _hangs_up_now(self, application: str) -> bool:
        for index, event in enumerate(self.caller.script):
            if isinstance(event, HangUp) and event.during in (None, application):
                if event.during is None and index != 0:
                    continue
                if event.during is not None and self.runs[application] != event.nth:
                    continue
                del self.caller.script[index]
                return True
        return False

    def _app_play_and_get_digits(self, data: str) -> None:
        parts = data.split(" ")
        variable, pattern = parts[7], parts[8]
        event = self._next_input()
        if isinstance(event, Press) and re.fullmatch(pattern, event.digit):
            self.variables[variable] = event.digit
        else:
            self.variables[variable] = ""

    def _next_input(self) -> Any:
        # Keys and silences in order; a hang-up aimed at a later application stays queued.
        for index, event in enumerate(self.caller.script):
            if isinstance(event, Press | Silence):
                return self.caller.script.pop(index)
        return Silence()

    def _app_bridge(self, data: str) -> None:
        body = re.sub(r"^\{[^}]*\}", "", data)
        for group in body.split("|"):
            for leg in group.split(","):
                endpoint = re.sub(r"^\[[^\]]*\]", "", leg)
                if endpoint in self.caller.answering:
                    self.variables["originate_disposition"] = "SUCCESS"
                    self.variables["last_bridge_to"] = endpoint
                    if self.variables.get("hangup_after_bridge") == "true":
                        self._end("NORMAL_CLEARING")
                    return
        self.variables["originate_disposition"] = "NO_ANSWER"

    def _app_callcenter(self, data: str) -> None:
        if self.caller.agent_answers:
            self.variables["cc_cause"] = "answered"
            if self.variables.get("hangup_after_bridge") == "true":
                self._end("NORMAL_CLEARING")
        else:
            self.variables["cc_cause"] = "cancel"
            self.variables["cc_cancel_reason"] = "TIMEOUT"

    def _app_rxfax(self, data: str) -> None:
        if self.caller.fax_content is None:
            self.variables["fax_success"] = "0"
            self.variables["fax_result_text"] = "no fax tone"
        else:
            with open(data, "wb") as output:
                output.write(self.caller.fax_content)
            self.variables["fax_success"] = "1"
        self._end("NORMAL_CLEARING")

    def _app_pickup(self, data: str) -> None:
        self._end("NORMAL_CLEARING")

    def _end(self, cause: str) -> None:
        self.up = False
        self.hangup_cause = self.hangup_cause or cause


class FreeswitchModule:
    """The module namespace: ``import freeswitch`` inside the switch gives an object like this."""

    def __init__(self, clock: datetime | None = None) -> None:
        self.clock = clock
        self.globals: dict[str, str] = {}
        self.log: list[tuple[str, str]] = []
        self.mails: list[dict[str, Any]] = []
        self.api_commands: list[str] = []
        module = self

        class API:
            def __init__(self, session: Any = None) -> None:
                self.session = session

            def execute(self, command: str, arguments: str = "") -> str:
                module.api_commands.append(f"{command} {arguments}".strip())
                return "+OK"

            def executeString(self, command: str) -> str:  # noqa: N802
                module.api_commands.append(command)
                return "+OK"

            def getTime(self) -> str:  # noqa: N802
                if module.clock is None:
                    raise AttributeError("no clock scripted")
                return str(int(module.clock.timestamp() * 1000))

        self.API = API
        self.Session = Session

    def consoleLog(self, level: str, message: str) -> None:  # noqa: N802
        self.log.append((level, message))

    def consoleCleanLog(self, message: str) -> None:  # noqa: N802
        self.log.append(("clean", message))

    def getGlobalVariable(self, name: str) -> str | None:  # noqa: N802
        return self.globals.get(name)

    def setGlobalVariable(self, name: str, value: str) -> None:  # noqa: N802
        self.globals[name] = value

    def running(self) -> bool:
        return True

    def msleep(self, milliseconds: int) -> None:
        pass

    def email(
        self,
        to: str,
        sender: str,
        headers: str | None = None,
        body: str | None = None,
        file: str | None = None,
        convert_cmd: str | None = None,
        convert_ext: str | None = None,
    ) -> bool:
        with open(file, "rb") if file else _Empty() as attachment:
            content = attachment.read()
        self.mails.append(
            {
                "to": to,
                "from": sender,
                "headers": headers,
                "body": body,
                "file": file,
                "content": content,
            }
        )
        return True


class _Empty:
    def __enter__(self) -> _Empty:
        return self

    def __exit__(self, *arguments: Any) -> None:
        return None

    def read(self) -> bytes:
        return b""
