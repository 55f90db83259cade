"""The stand-in must not drift from FreeSWITCH's API: every name our code calls on a session or
on the module is one the reference lists (shared/reference/freeswitch.md §1.5)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.routing.fake_freeswitch import REFERENCE_SESSION_METHODS, FreeswitchModule, Session

PACKAGE = Path(__file__).resolve().parents[2] / "provisioner"
# The modules that run inside FreeSWITCH (the server-side ones use SQLAlchemy sessions).
SWITCH_SIDE = [
    PACKAGE / "callrouting.py",
    *(
        PACKAGE / "routing" / name
        for name in ("runner.py", "session_adapter.py", "engine.py", "client.py", "fax.py")
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
    module_names -= {"clock", "globals", "log", "mails", "api_commands"}  # test-side state
    assert module_names <= REFERENCE_MODULE_NAMES, module_names - REFERENCE_MODULE_NAMES
    api_names = {name for name in vars(module.API) if not name.startswith("_")}
    assert api_names <= REFERENCE_API_METHODS
