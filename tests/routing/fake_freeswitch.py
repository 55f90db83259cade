"""A stand-in for FreeSWITCH's ``freeswitch`` module (the mod_python3 SWIG API) and a caller.

It follows the surface in shared/reference/freeswitch.md §1.5: module functions (``consoleLog``,
``getGlobalVariable``, ``email`` ...), ``API`` (``execute``, ``executeString``, ``getTime``) and
``Session`` with the methods the handler uses. Applications run through ``Session.execute``
act like the real ones as far as the handler can see, as read in FreeSWITCH's source:

* ``bridge`` sets ``originate_disposition`` to ``call accepted`` when a leg answers and to the
  cause name (``NO_ANSWER``) when none does (switch_ivr_originate.c), and after a bridged call
  ``bridge_hangup_cause`` (switch_ivr_bridge.c); ``hangup_after_bridge`` ends the caller's leg.
* ``play_and_get_digits`` sets its variable to the key, or unsets it and sets ``<var>_invalid``
  for a key the pattern refuses (switch_ivr_play_say.c); ``API().getTime()`` is milliseconds.
* ``callcenter_config`` keeps agents and tiers like mod_callcenter: ``queue reload`` re-runs
  load_agent (status included) and load_tier for what callcenter.conf lists and removes
  nothing; ``agent add`` creates an agent Logged Out; ``agent del`` removes it and its tiers;
  ``tier del`` one tier; ``agent list`` / ``queue list tiers`` answer in its ``a|b`` table.
* ``email`` writes the message as switch_simple_email does (only the headers it is given) and
  pipes it into ``mailer_app -f <from> <mailer_args> <to>``, so a test can hand it a real mailer.

The scripted caller may press keys, stay silent or hang up at any moment.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

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
        if value:
            self.variables[name] = value
        else:  # switch_channel_set_variable: an empty value unsets the variable
            self.variables.pop(name, None)

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
        self.variables.pop(f"{variable}_invalid", None)
        if isinstance(event, Press) and re.fullmatch(pattern, event.digit):
            self.variables[variable] = event.digit
        else:
            self.variables.pop(variable, None)
            if isinstance(event, Press):
                self.variables[f"{variable}_invalid"] = event.digit

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
                    self.variables["originate_disposition"] = "call accepted"
                    self.variables["last_bridge_to"] = endpoint
                    # The answering side hangs up after talking.
                    self.variables["bridge_hangup_cause"] = "NORMAL_CLEARING"
                    self.variables["last_bridge_hangup_cause"] = "NORMAL_CLEARING"
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


AGENT_COLUMNS = (
    "name instance_id uuid type contact status state max_no_answer wrap_up_time "
    "reject_delay_time busy_delay_time no_answer_delay_time last_bridge_start last_bridge_end "
    "last_offered_call no_answer_count calls_answered talk_time ready_time external_calls_count"
).split()
TIER_COLUMNS = ("queue", "agent", "state", "level", "position")
# load_agent's XML attributes and the agents columns they update (mod_callcenter.c).
AGENT_ATTRIBUTES = {
    "contact": "contact",
    "status": "status",
    "wrap-up-time": "wrap_up_time",
    "max-no-answer": "max_no_answer",
    "reject-delay-time": "reject_delay_time",
    "busy-delay-time": "busy_delay_time",
    "no-answer-delay-time": "no_answer_delay_time",
}
AGENT_SET_KEYS = frozenset(
    "status state uuid contact ready_time busy_delay_time reject_delay_time "
    "no_answer_delay_time type max_no_answer wrap_up_time".split()
)
AGENT_STATUSES = frozenset({"Logged Out", "Available", "Available (On Demand)", "On Break"})


class CallCenter:
    """mod_callcenter's agents and tiers tables and its ``callcenter_config`` API.

    ``configuration`` is the callcenter.conf the switch would fetch (from the server) whenever
    mod_callcenter opens it; ``start()`` is the module loading with truncate-*-on-load.
    """

    def __init__(self, configuration: bytes | None = None) -> None:
        self.configuration = configuration
        self.agents: dict[str, dict[str, str]] = {}
        self.tiers: dict[tuple[str, str], dict[str, str]] = {}
        self.queues: dict[str, dict[str, str]] = {}  # loaded queues and their settings
        self.fetches = 0

    def _config(self) -> etree._Element:
        self.fetches += 1
        assert self.configuration is not None, "no callcenter.conf to fetch"
        root = etree.fromstring(self.configuration)
        found = root.find("section/configuration[@name='callcenter.conf']")
        assert found is not None
        return found

    def start(self) -> None:
        """Module load: truncate, then load every agent and tier of callcenter.conf."""
        self.agents.clear()
        self.tiers.clear()
        self.queues.clear()
        configuration = self._config()
        for queue in configuration.iterfind("queues/queue"):
            self._load_queue_settings(queue)
        for agent in configuration.iterfind("agents/agent"):
            self._load_agent(agent)
        for tier in configuration.iterfind("tiers/tier"):
            self._load_tier(tier)

    def _load_queue_settings(self, element: etree._Element) -> None:
        settings = {param.get("name", ""): param.get("value", "") for param in element}
        self.queues[element.get("name", "")] = {
            "name": element.get("name", ""),
            "strategy": settings.get("strategy", "longest-idle-agent"),
            "max_wait_time": settings.get("max-wait-time", "0"),
        }

    def _get_queue(self, name: str) -> bool:
        """get_queue: a queue not loaded is loaded from callcenter.conf, settings only."""
        if name not in self.queues:
            found = self._config().find(f"queues/queue[@name='{name}']")
            if found is None:
                return False
            self._load_queue_settings(found)
        return True

    def _load_agent(self, element: etree._Element) -> None:
        name = element.get("name", "")
        if name not in self.agents:
            self._add_agent(name, element.get("type", "callback"))
        for attribute, column in AGENT_ATTRIBUTES.items():
            if element.get(attribute) is not None:
                self.agents[name][column] = element.get(attribute, "")

    def _load_tier(self, element: etree._Element) -> None:
        key = (element.get("queue", ""), element.get("agent", ""))
        tier = self.tiers.setdefault(key, {"state": "Ready"})
        tier["level"] = element.get("level") or "1"
        tier["position"] = element.get("position") or "1"

    def _add_agent(self, name: str, agent_type: str) -> None:
        self.agents[name] = {column: "" for column in AGENT_COLUMNS} | {
            "name": name,
            "instance_id": "single_box",
            "type": agent_type,
            "status": "Logged Out",
            "state": "Waiting",
        }

    def command(self, arguments: str) -> str:
        """``callcenter_config <arguments>`` as the API answers it."""
        words = arguments.split(" ")
        section, action, rest = words[0], words[1] if len(words) > 1 else "", words[2:]
        handler = getattr(self, f"_{section}_{action}", None)
        if handler is None:
            return "-ERR Invalid!\n"
        result: str = handler(rest)
        return result

    def _agent_add(self, rest: list[str]) -> str:
        if len(rest) < 2:
            return "-ERR Invalid!\n"
        if rest[0] in self.agents:
            return "-ERR Agent already exist!\n"
        if rest[1] not in ("callback", "uuid-standby"):
            return "-ERR Agent type invalid!\n"
        self._add_agent(rest[0], rest[1])
        return "+OK\n"

    def _agent_del(self, rest: list[str]) -> str:
        self.agents.pop(rest[0], None)
        for key in [key for key in self.tiers if key[1] == rest[0]]:
            del self.tiers[key]
        return "+OK\n"

    def _agent_set(self, rest: list[str]) -> str:
        if len(rest) < 3:
            return "-ERR Invalid!\n"
        key, name, value = rest[0], rest[1], " ".join(rest[2:])
        if key not in AGENT_SET_KEYS:
            return "-ERR Invalid Agent Update KEY!\n"
        if name not in self.agents:
            return "-ERR Invalid Agent!\n"
        if key == "status" and value not in AGENT_STATUSES:
            return "-ERR Invalid Agent Status!\n"
        self.agents[name][key] = value
        return "+OK\n"

    def _agent_list(self, rest: list[str]) -> str:
        rows = [agent for name, agent in self.agents.items() if not rest or name == rest[0]]
        return table(AGENT_COLUMNS, [[row[column] for column in AGENT_COLUMNS] for row in rows])

    def _tier_add(self, rest: list[str]) -> str:
        if len(rest) < 2:
            return "-ERR Invalid!\n"
        queue, agent = rest[0], rest[1]
        if self.configuration is not None and not self._get_queue(queue):
            return "-ERR Queue not found!\n"
        if agent not in self.agents:
            return "-ERR Agent not found!\n"
        if (queue, agent) in self.tiers:
            return "-ERR Tier already exist!\n"
        level = rest[2] if len(rest) > 2 else "1"
        position = rest[3] if len(rest) > 3 else "1"
        self.tiers[(queue, agent)] = {"state": "Ready", "level": level, "position": position}
        return "+OK\n"

    def _tier_set(self, rest: list[str]) -> str:
        if len(rest) < 4:
            return "-ERR Invalid!\n"
        key, queue, agent, value = rest[:4]
        if (queue, agent) not in self.tiers or key not in ("state", "level", "position"):
            return "-ERR Invalid!\n"
        self.tiers[(queue, agent)][key] = value
        return "+OK\n"

    def _tier_del(self, rest: list[str]) -> str:
        if len(rest) < 2:
            return "-ERR Invalid!\n"
        self.tiers.pop((rest[0], rest[1]), None)
        return "+OK\n"

    def _tier_list(self, rest: list[str]) -> str:
        return self._rows_of_tiers(list(self.tiers))

    def _queue_list(self, rest: list[str]) -> str:
        if not rest:
            columns = ["name", "strategy", "max_wait_time"]
            rows = [[queue[column] for column in columns] for queue in self.queues.values()]
            return table(columns, rows)
        if len(rest) == 2 and rest[0] == "tiers":
            return self._rows_of_tiers([key for key in self.tiers if key[0] == rest[1]])
        return "-ERR Invalid!\n"

    def _rows_of_tiers(self, keys: list[tuple[str, str]]) -> str:
        rows = [
            [queue, agent, self.tiers[(queue, agent)]["state"]]
            + [self.tiers[(queue, agent)][column] for column in ("level", "position")]
            for queue, agent in keys
        ]
        return table(TIER_COLUMNS, rows)

    def _queue_reload(self, rest: list[str]) -> str:
        """destroy_queue + load_queue(agents and tiers): every agent and tier of the file is
        (re)loaded, statuses included; nothing is removed."""
        configuration = self._config()
        found = configuration.find(f"queues/queue[@name='{rest[0]}']")
        if found is None:
            return "-ERR Invalid Queue not found!\n"
        self._load_queue_settings(found)
        for agent in configuration.iterfind("agents/agent"):
            self._load_agent(agent)
        for tier in configuration.iterfind("tiers/tier"):
            self._load_tier(tier)
        return "+OK\n"

    def _queue_unload(self, rest: list[str]) -> str:
        """destroy_queue: forgets the queue's settings; agents and tiers stay."""
        self.queues.pop(rest[0], None)
        return "+OK\n"


def table(columns: tuple[str, ...] | list[str], rows: list[list[str]]) -> str:
    """mod_callcenter's list answer: a header line and rows joined with ``|``, then +OK."""
    if not rows:
        return "+OK\n"
    lines = ["|".join(columns), *("|".join(row) for row in rows)]
    return "\n".join(lines) + "\n+OK\n"


class FreeswitchModule:
    """The module namespace: ``import freeswitch`` inside the switch gives an object like this."""

    def __init__(
        self,
        clock: datetime | None = None,
        callcenter: CallCenter | None = None,
        mailer: tuple[str, str] | None = None,
    ) -> None:
        self.clock = clock
        self.globals: dict[str, str] = {}
        self.log: list[tuple[str, str]] = []
        self.mails: list[dict[str, Any]] = []
        self.api_commands: list[str] = []
        self.callcenter = callcenter or CallCenter()
        # switch.conf.xml's mailer-app and mailer-app-args; None records the mail only.
        self.mailer = mailer
        module = self

        class API:
            def __init__(self, session: Any = None) -> None:
                self.session = session

            def execute(self, command: str, arguments: str = "") -> str:
                return self.executeString(f"{command} {arguments}".strip())

            def executeString(self, command: str) -> str:  # noqa: N802
                module.api_commands.append(command)
                name, _, arguments = command.partition(" ")
                if name == "callcenter_config":
                    return module.callcenter.command(arguments)
                return "+OK\n"

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
        message = simple_email_message(headers, body, file, content)
        self.mails.append(
            {
                "to": to,
                "from": sender,
                "headers": headers,
                "body": body,
                "file": file,
                "content": content,
                "message": message,
            }
        )
        if self.mailer is None:
            return True
        mailer_app, mailer_args = self.mailer
        descriptor, path = tempfile.mkstemp(prefix="mail.")
        with os.fdopen(descriptor, "wb") as output:
            output.write(message)
        try:
            origin = shlex.quote(sender or "freeswitch")
            command = (
                f"/bin/cat {shlex.quote(path)} | {mailer_app} -f {origin} {mailer_args}"
                f" {shlex.quote(to)}"
            )
            completed = subprocess.run(command, shell=True, timeout=30, check=False)  # noqa: S602
        finally:
            os.remove(path)
        return completed.returncode == 0


def simple_email_message(
    headers: str | None, body: str | None, file: str | None, content: bytes
) -> bytes:
    """The file switch_simple_email hands the mailer: with an attachment a multipart/mixed
    header, then exactly the ``headers`` given (nothing else: no To:, no From:), a blank line,
    the text and the base64 attachment."""
    boundary = "XXXX_boundary_XXXX"
    parts: list[str] = []
    attached = file is not None
    if attached:
        parts.append(f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n')
    parts.append(headers or "")
    parts.append("\n\n")
    if attached:
        parts.append(f"--{boundary}\nContent-Type: text/plain\n\n")
    parts.append(body or "")
    if attached and file is not None:
        name = os.path.basename(file)
        parts.append(
            f'\n\n--{boundary}\nContent-Type: application/octet-stream; name="{name}"\n'
            "Content-ID: <ATTACHED@freeswitch.org>\nContent-Transfer-Encoding: base64\n"
            f'Content-Description: {name}\nContent-Disposition: attachment; filename="{name}"\n\n'
        )
        parts.append(base64.encodebytes(content).decode())
        parts.append(f"\n\n--{boundary}--\n.\n")
    return "".join(parts).encode()


class _Empty:
    def __enter__(self) -> _Empty:
        return self

    def __exit__(self, *arguments: Any) -> None:
        return None

    def read(self) -> bytes:
        return b""
