"""The stand-in must not drift from FreeSWITCH's API: every name our code calls on a session or
on the module is one the reference lists (shared/reference/freeswitch.md §1.5)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.routing.fake_freeswitch import (
    REFERENCE_SESSION_METHODS,
    CallCenter,
    FreeswitchModule,
    Session,
)

PACKAGE = Path(__file__).resolve().parents[2] / "provisioner"
# The modules that run inside FreeSWITCH (the server-side ones use SQLAlchemy sessions).
SWITCH_SIDE = [
    PACKAGE / "callrouting.py",
    *(
        PACKAGE / "routing" / name
        for name in (
            "runner.py",
            "session_adapter.py",
            "engine.py",
            "client.py",
            "fax.py",
            "queue_members.py",
        )
    ),
]
REFERENCE_MODULE_NAMES = {
    "consoleLog",
    "consoleCleanLog",
    "console_log",
    "setGlobalVariable",
    "getGlobalVariable",
    "running",
    "msleep",
    "bridge",
    "email",
    "API",
    "Event",
    "EventConsumer",
    "Stream",
    "DTMF",
    "IVRMenu",
    "Session",
}
REFERENCE_API_METHODS = {"execute", "executeString", "getTime"}


def called_names(pattern: str) -> set[str]:
    names: set[str] = set()
    for path in SWITCH_SIDE:
        names.update(re.findall(pattern, path.read_text()))
    return names


def test_our_code_calls_only_reference_session_methods():
    used = called_names(r"\bsession\.(\w+)\(")
    assert used, "the pattern must find the calls"
    assert used <= REFERENCE_SESSION_METHODS, used - REFERENCE_SESSION_METHODS


def test_our_code_calls_only_reference_module_functions():
    used = called_names(r"\bfreeswitch\.(\w+)\(")
    assert {"consoleLog", "getGlobalVariable", "email", "API"} <= used
    assert used <= REFERENCE_MODULE_NAMES, used - REFERENCE_MODULE_NAMES
    assert called_names(r"\.API\(\)\.(\w+)\(") <= REFERENCE_API_METHODS


def test_the_stand_in_has_only_reference_names():
    session_names = {name for name in vars(Session) if not name.startswith("_")}
    assert session_names <= REFERENCE_SESSION_METHODS, session_names - REFERENCE_SESSION_METHODS
    module = FreeswitchModule()
    module_names = {name for name in dir(module) if not name.startswith("_")}
    # test-side state
    module_names -= {"clock", "globals", "log", "mails", "api_commands", "callcenter", "mailer"}
    assert module_names <= REFERENCE_MODULE_NAMES, module_names - REFERENCE_MODULE_NAMES
    api_names = {name for name in vars(module.API) if not name.startswith("_")}
    assert api_names <= REFERENCE_API_METHODS


# callcenter_config as mod_callcenter.c's CC_CONFIG_API_SYNTAX spells it (the forms we use).
REFERENCE_CALLCENTER_FORMS = [
    r"agent add \S+ (callback|uuid-standby)",
    r"agent del \S+",
    r"agent set (status|contact|max_no_answer|wrap_up_time|reject_delay_time|busy_delay_time"
    r"|no_answer_delay_time) \S+ \S+",
    r"agent list( \S+)?",
    r"tier add \S+ \S+( \d+( \d+)?)?",
    r"tier set (state|level|position) \S+ \S+ \S+",
    r"tier del \S+ \S+",
    r"tier list",
    r"queue list",
    r"queue list tiers \S+",
    r"queue unload \S+",
    r"queue reload \S+",
]


def test_our_callcenter_commands_are_ones_mod_callcenter_knows():
    source = (PACKAGE / "routing" / "queue_members.py").read_text()
    used = re.findall(r'(?:send|api)\(f"(?:callcenter_config )?([a-z]+ [a-z]+)', source)
    assert {"queue list", "tier del", "agent del", "agent add", "tier add", "tier set"} <= set(used)
    for form in used:
        assert any(reference.startswith(form) for reference in REFERENCE_CALLCENTER_FORMS), form


def test_the_stand_in_answers_only_reference_callcenter_commands():
    handled = {name.removeprefix("_").replace("_", " ") for name in vars(CallCenter)}
    handled = {name for name in handled if name.split(" ")[0] in ("agent", "tier", "queue")}
    assert handled
    for command in handled:
        assert any(reference.startswith(command) for reference in REFERENCE_CALLCENTER_FORMS)
