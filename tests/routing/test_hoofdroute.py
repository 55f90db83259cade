"""The demo's Hoofdroute walked through the FreeSWITCH stand-in, scenario by scenario.

Each test lists the applications (and their arguments) FreeSWITCH would run for the call.
Wednesday 25 November 2026 10:00 in Amsterdam is inside the opening hours.
"""

from __future__ import annotations

import pytest

from tests.routing.conftest import DOMAIN, amsterdam, call, sound_path
from tests.routing.fake_freeswitch import Caller, FreeswitchModule, HangUp, Press, Silence

OPEN = amsterdam(2026, 11, 25, 10, 0)
QUEUE = ("callcenter", f"wachtrij-1@{DOMAIN}")
WELCOME = ("playback", sound_path("Welkom.mp3"))
MENU = (
    "play_and_get_digits",
    f"1 1 1 5000 none {sound_path('Keuzemenu.mp3')} silence_stream://250 provisioner_digit [0-9*#]",
)
MARC = ("bridge", "{ignore_early_media=true}[leg_timeout=20]user/240@" + DOMAIN)
ALLEN = (
    "bridge",
    "{ignore_early_media=true}"
    + ",".join(f"[leg_timeout=30]user/{number}@{DOMAIN}" for number in ("240", "241", "242", "243"))
    + f",[leg_timeout=30]pickup/8500@{DOMAIN}",
)
VOICEMAIL = ("voicemail", f"default {DOMAIN} 8000")
CLOSED = [("playback", sound_path("Gesloten.mp3")), VOICEMAIL]


def test_choice_1_goes_back_to_the_queue(demo_route):
    caller = Caller(script=[Press("1"), HangUp(during="callcenter", nth=2)])
    result = call(demo_route, caller, OPEN)
    assert result.applications == [WELCOME, QUEUE, MENU, QUEUE]
    assert result.session.variables["hangup_after_bridge"] == "true"


def test_choice_1_served_by_an_agent_the_second_time(demo_route):
    caller = Caller(script=[Press("1")])
    result = call(demo_route, caller, OPEN)
    assert result.applications[:4] == [WELCOME, QUEUE, MENU, QUEUE]
    # Nobody takes it the second time either: back to the menu, which now times out.
    assert result.applications[4:] == [MENU, MENU, MENU, ALLEN, VOICEMAIL]


def test_choice_2_announces_and_rings_marc(demo_route):
    caller = Caller(script=[Press("2")], answering={f"user/240@{DOMAIN}"})
    result = call(demo_route, caller, OPEN)
    assert result.applications == [
        WELCOME,
        QUEUE,
        MENU,
        ("playback", sound_path("Doorverbinden.mp3")),
        MARC,
    ]
    assert not result.session.ready()


def test_choice_2_with_marc_not_answering_rings_everybody_then_voicemail(demo_route):
    caller = Caller(script=[Press("2")])
    result = call(demo_route, caller, OPEN)
    assert result.applications[3:] == [
        ("playback", sound_path("Doorverbinden.mp3")),
        MARC,
        ALLEN,
        VOICEMAIL,
    ]
    assert result.visited[-3:] == ["Hoofdroute/marc", "Hoofdroute/allen", "Hoofdroute/voicemail"]


def test_choice_2_with_marc_not_answering_and_sanne_picking_up(demo_route):
    caller = Caller(script=[Press("2")], answering={f"user/241@{DOMAIN}"})
    result = call(demo_route, caller, OPEN)
    assert result.applications[-2:] == [MARC, ALLEN]
    assert result.session.variables["last_bridge_to"] == f"user/241@{DOMAIN}"


def test_choice_3_rings_the_group_allen(demo_route):
    caller = Caller(script=[Press("3")], answering={f"user/243@{DOMAIN}"})
    result = call(demo_route, caller, OPEN)
    assert result.applications == [WELCOME, QUEUE, MENU, ALLEN]


def test_choice_9_leaves_a_voicemail(demo_route):
    result = call(demo_route, Caller(script=[Press("9")]), OPEN)
    assert result.applications == [WELCOME, QUEUE, MENU, VOICEMAIL]


def test_three_wrong_keys_take_the_invalid_branch(demo_route):
    caller = Caller(script=[Press("5"), Press("#"), Press("7")])
    result = call(demo_route, caller, OPEN)
    assert result.applications == [WELCOME, QUEUE, MENU, MENU, MENU, ALLEN, VOICEMAIL]


def test_silence_takes_the_timeout_branch_after_three_tries(demo_route):
    caller = Caller(script=[Silence(), Silence(), Silence()])
    result = call(demo_route, caller, OPEN)
    assert result.applications == [WELCOME, QUEUE, MENU, MENU, MENU, ALLEN, VOICEMAIL]


def test_a_wrong_key_then_a_right_one(demo_route):
    result = call(demo_route, Caller(script=[Press("4"), Press("9")]), OPEN)
    assert result.applications == [WELCOME, QUEUE, MENU, MENU, VOICEMAIL]


def test_the_queue_answers_and_the_flow_ends(demo_route):
    result = call(demo_route, Caller(agent_answers=True), OPEN)
    assert result.applications == [WELCOME, QUEUE]
    # The switch's members of the queue are compared with the route's first (no reload, which
    # would reset every agent's status); this switch had none, so all three are added.
    commands = result.freeswitch.api_commands
    assert commands[:2] == [
        "callcenter_config queue list",
        f"callcenter_config queue list tiers wachtrij-1@{DOMAIN}",
    ]
    assert not any("reload" in command for command in commands)
    tiers = result.freeswitch.callcenter.tiers
    assert sorted(tiers) == [
        (f"wachtrij-1@{DOMAIN}", f"{n}@{DOMAIN}") for n in ("240", "241", "242")
    ]
    assert result.visited == [
        "call_flow:Hoofdroute",
        "Hoofdroute/openingstijden",
        "Hoofdroute/welkom",
        "Hoofdroute/wachtrij",
    ]


def test_caller_hangs_up_in_the_queue(demo_route):
    result = call(demo_route, Caller(script=[HangUp(during="callcenter")]), OPEN)
    assert result.applications == [WELCOME, QUEUE]
    assert (
        "hangup",
        "NORMAL_CLEARING",
    ) not in result.session.events  # nothing after the caller left
    assert result.visited[-1] == "Hoofdroute/wachtrij"


def test_caller_hangs_up_during_the_welcome(demo_route):
    result = call(demo_route, Caller(script=[HangUp()]), OPEN)
    assert result.applications == [WELCOME]


def test_caller_hangs_up_in_the_menu(demo_route):
    result = call(demo_route, Caller(script=[HangUp(during="play_and_get_digits")]), OPEN)
    assert result.applications == [WELCOME, QUEUE, MENU]


def test_outside_opening_hours(demo_route):
    result = call(demo_route, Caller(), amsterdam(2026, 11, 25, 18, 0))
    assert result.applications == CLOSED


def test_on_koningsdag(demo_route):
    # 27 April 2026 is a Monday: a working day by the week, closed as a public holiday.
    result = call(demo_route, Caller(), amsterdam(2026, 4, 27, 10, 0))
    assert result.applications == CLOSED


def test_on_easter_monday(demo_route):
    result = call(demo_route, Caller(), amsterdam(2026, 4, 6, 10, 0))
    assert result.applications == CLOSED


def test_christmas_eve_closes_at_three(demo_route):
    before = call(demo_route, Caller(agent_answers=True), amsterdam(2026, 12, 24, 14, 59))
    after = call(demo_route, Caller(), amsterdam(2026, 12, 24, 15, 0))
    assert before.applications == [WELCOME, QUEUE]
    assert after.applications == CLOSED


def test_the_call_is_answered_before_the_first_prompt(demo_route):
    result = call(demo_route, Caller(agent_answers=True), OPEN)
    kinds = [event[0] for event in result.session.events]
    assert kinds.index("answer") < kinds.index("execute")


MARC_PATH = [
    WELCOME,
    QUEUE,
    MENU,
    ("playback", sound_path("Doorverbinden.mp3")),
    MARC,
    ALLEN,
    VOICEMAIL,
]


@pytest.mark.parametrize("moment", range(len(MARC_PATH)), ids=[name for name, _ in MARC_PATH])
def test_a_hang_up_at_any_moment_stops_the_walk(demo_route, moment):
    """Whenever the caller leaves, nothing more is sent to FreeSWITCH (no goodbye either)."""
    application = MARC_PATH[moment][0]
    nth = [name for name, _ in MARC_PATH[: moment + 1]].count(application)
    caller = Caller(script=[Press("2"), HangUp(during=application, nth=nth)])
    result = call(demo_route, caller, OPEN)
    assert result.applications == MARC_PATH[: moment + 1]
    assert not any(event[0] == "hangup" for event in result.session.events)


def test_the_operators_test_clock_decides_the_time_condition(demo_route):
    # global_setvar provisioner_clock=...: Christmas morning, though the switch says Tuesday.
    switch = FreeswitchModule(OPEN)
    switch.setGlobalVariable("provisioner_clock", "2026-12-25T10:00:00+01:00")
    result = call(demo_route, Caller(), OPEN, switch)
    assert "Hoofdroute/gesloten" in result.visited
    assert any("provisioner_clock is set" in message for _, message in switch.log)


@pytest.mark.parametrize("clock", ["tomorrow", "2026-12-25T10:00:00"], ids=["garbage", "no offset"])
def test_a_test_clock_that_cannot_be_read_is_ignored_and_logged(demo_route, clock):
    switch = FreeswitchModule(OPEN)
    switch.setGlobalVariable("provisioner_clock", clock)
    result = call(demo_route, Caller(), OPEN, switch)
    assert "Hoofdroute/welkom" in result.visited
    assert any(level == "err" and "provisioner_clock" in text for level, text in switch.log)
