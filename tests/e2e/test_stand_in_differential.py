"""The stand-in switch kept honest: each behaviour the unit tests rely on, run through our
``SessionAdapter`` on the real switch (mod_python3, tests/e2e/probe.py) and on the stand-in
(tests/routing/fake_freeswitch.py), must leave our code seeing the same thing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import probe
from tests.e2e.agents import Agent, SipLab
from tests.e2e.switch import FreeSwitch
from tests.e2e.switch_config import PROBE_CONTEXT
from tests.routing.fake_freeswitch import Caller, FreeswitchModule, Press, Session, Silence

# What the stand-in's caller does in each scenario (the real one: the probe context's far end,
# and Fatima's phone, which rings without answering).
STAND_IN_CALLERS = {
    "bridge_unanswered": Caller(),
    "key_pressed": Caller(script=[Press("7")]),
    "silence": Caller(script=[Silence()]),
    "queue_listing": Caller(),
}
FAR_END = {"key_pressed": "probe-key"}


def on_real_switch(
    switch: FreeSwitch, sip_lab: SipLab, folder: Path, scenario: str
) -> dict[str, Any]:
    """Run the scenario inside FreeSWITCH on a loopback call; read what our code saw."""
    output = folder / f"probe-{scenario}-{uuid.uuid4().hex[:6]}.json"
    far_end = FAR_END.get(scenario, "probe-hold")
    answer = switch.api(
        f"originate {{probe_scenario={scenario},probe_output={output}}}"
        f"loopback/{far_end}/{PROBE_CONTEXT} &python(tests.e2e.probe)"
    )
    assert answer.startswith("+OK"), answer
    sip_lab.wait_until(output.exists, 30, f"the probe's {scenario} record")
    sip_lab.settle(0.2)
    return dict(json.loads(output.read_text()))


def on_stand_in(scenario: str) -> dict[str, Any]:
    """Run the same scenario on the stand-in."""
    session = Session(STAND_IN_CALLERS[scenario], destination="probe")
    return probe.run(scenario, session, FreeswitchModule())


@pytest.mark.parametrize("scenario", list(probe.SCENARIOS))
def test_the_stand_in_shows_our_code_what_the_real_switch_shows(
    phones: dict[str, Agent], switch: FreeSwitch, sip_lab: SipLab, lab_folder: Path, scenario: str
) -> None:
    real = on_real_switch(switch, sip_lab, lab_folder, scenario)
    assert "error" not in real, real["error"]
    stand_in = on_stand_in(scenario)
    assert stand_in == real, f"stand-in {stand_in}\nreal     {real}"
