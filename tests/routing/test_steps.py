"""Every step type through the stand-in, and the fallbacks that keep a caller out of silence."""

from __future__ import annotations

import copy
import struct
import subprocess
import sys
from typing import Any

import pytest

from provisioner.routing.conditions import comparable_number
from provisioner.routing.engine import MAX_STEPS
from provisioner.routing.fax import deliver_fax
from provisioner.routing.session_adapter import SessionAdapter
from tests.routing.conftest import DOMAIN, PROJECT, amsterdam, call, sound_path
from tests.routing.fake_freeswitch import Caller, FreeswitchModule, Session

NOW = amsterdam(2026, 11, 25, 10, 0)
GOODBYE = [("playback", "voicemail/vm-goodbye.wav")]
VOICEMAIL = ("voicemail", f"default {DOMAIN} 8000")


def with_flow(route: dict[str, Any], *steps: dict[str, Any]) -> dict[str, Any]:
    """The demo route entering a flow "Test" made of ``steps`` (the first one starts)."""
    changed = copy.deepcopy(route)
    changed["call_flows"]["Test"] = {"start": steps[0]["id"], "steps": {s["id"]: s for s in steps}}
    changed["entry"] = "call_flow:Test"
    return changed


def marc(**fields: Any) -> dict[str, Any]:
    return {"id": "marc", "type": "DOORVERBINDEN", "target": "240", "ring_time": 20} | fields


def condition(**fields: Any) -> dict[str, Any]:
    return {"id": "check", "type": "VOORWAARDE", "match": "marc", "no_match": "box"} | fields


BOX = {"id": "box", "type": "VOICEMAILBOX", "box": "8000"}


@pytest.mark.parametrize(
    "criteria, caller, matched",
    [
        ({"caller_numbers": ["+31612345678"]}, "0612345678", True),
        ({"caller_numbers": ["+31612345678"]}, "0031612345678", True),
        ({"caller_numbers": ["+31612345678"]}, "0612345679", False),
        ({"caller_prefixes": ["+49"]}, "004930123456", True),
        ({"caller_prefixes": ["+49"]}, "0201234567", False),
        ({"caller_prefixes": ["06"]}, "+31612345678", True),
        ({"anonymous": True}, "anonymous", True),
        ({"anonymous": True}, "", True),
        ({"anonymous": True}, "0612345678", False),
        ({"switch": True}, "0612345678", True),
        ({"switch": False}, "0612345678", False),
        ({"dialled_numbers": ["5000"]}, "0612345678", True),
        ({"dialled_numbers": ["+31202103356"]}, "0612345678", False),
    ],
)
def test_voorwaarde_branches_on_the_caller(demo_route, criteria, caller, matched):
    route = with_flow(demo_route, condition(**criteria), marc(), BOX)
    result = call(route, Caller(number=caller, answering={f"user/240@{DOMAIN}"}), NOW)
    assert result.visited[2] == ("Test/marc" if matched else "Test/box")


def test_comparable_number_forms():
    assert comparable_number("020 210 3356", "31") == "+31202103356"
    assert comparable_number("31202103356", "31") == "+31202103356"
    assert comparable_number("+31202103356", "31") == "+31202103356"


def test_prefix_is_shown_to_whoever_answers(demo_route):
    prefix = {"id": "sales", "type": "PREFIX", "prefix": "Sales", "next": "marc"}
    result = call(with_flow(demo_route, prefix, marc()), Caller(name="Jan Klant"), NOW)
    assert ("set", "effective_caller_id_name", "Sales Jan Klant") in result.session.events
    assert result.application_names()[0] == "bridge"


def test_doorverbinden_to_an_outside_number(demo_route):
    step = marc(target="+31612345678", next="box")
    result = call(with_flow(demo_route, step, BOX), Caller(), NOW)
    assert result.applications == [
        ("bridge", "{ignore_early_media=true}[leg_timeout=20]sofia/gateway/provider/+31612345678"),
        VOICEMAIL,
    ]
    assert result.session.variables["call_timeout"] == "20"
    assert result.session.variables["continue_on_fail"] == "true"


def test_omleiding_to_a_mobile_says_who_diverted(demo_route):
    step = {"id": "divert", "type": "OMLEIDING", "destination": "+31612345678", "next": "box"}
    gateway = "sofia/gateway/provider/+31612345678"
    result = call(with_flow(demo_route, step, BOX), Caller(answering={gateway}), NOW)
    assert result.applications == [
        ("bridge", f"{{ignore_early_media=true}}[leg_timeout=30]{gateway}")
    ]
    diversion = f"<sip:5000@{DOMAIN}>;reason=unconditional"
    set_before = result.session.events.index(("set", "sip_h_Diversion", diversion))
    bridge = next(
        i for i, event in enumerate(result.session.events) if event[:2] == ("execute", "bridge")
    )
    assert set_before < bridge


def test_omleiding_clears_its_diversion_header_for_the_next_bridge(demo_route):
    # Unanswered, the next step rings Marc: his phone must not be told the call was diverted.
    step = {"id": "divert", "type": "OMLEIDING", "destination": "+31612345678", "next": "marc"}
    marc = {"id": "marc", "type": "DOORVERBINDEN", "target": "240"}
    result = call(with_flow(demo_route, step, marc), Caller(answering={f"user/240@{DOMAIN}"}), NOW)
    bridges = [data for name, data in result.applications if name == "bridge"]
    assert bridges[-1].endswith(f"user/240@{DOMAIN}")
    assert "sip_h_Diversion" not in result.session.variables


def test_an_extension_diverted_outside_shows_the_tenants_main_number(demo_route):
    step = {"id": "divert", "type": "OMLEIDING", "destination": "+31612345678"}
    result = call(with_flow(demo_route, step), Caller(number="240"), NOW)
    assert result.session.variables["effective_caller_id_number"] == "+31202103356"


def test_an_outside_caller_diverted_outside_keeps_their_number(demo_route):
    step = {"id": "divert", "type": "OMLEIDING", "destination": "+31612345678"}
    result = call(with_flow(demo_route, step), Caller(number="0612345678"), NOW)
    assert "effective_caller_id_number" not in result.session.variables


def test_omleiding_to_another_flow(demo_route):
    step = {"id": "divert", "type": "OMLEIDING", "destination": "call_flow:Hoofdroute"}
    result = call(with_flow(demo_route, step), Caller(agent_answers=True), NOW)
    assert result.visited[:3] == ["call_flow:Test", "Test/divert", "call_flow:Hoofdroute"]


def test_omleiding_that_fails_takes_next(demo_route):
    step = {"id": "divert", "type": "OMLEIDING", "destination": "+31612345678", "next": "box"}
    result = call(with_flow(demo_route, step, BOX), Caller(), NOW)
    assert result.applications[-1] == VOICEMAIL


def test_belgroep_sequential_rings_one_after_the_other(demo_route):
    route = copy.deepcopy(demo_route)
    route["ring_groups"]["*8500"] |= {
        "strategy": "sequential",
        "members": ["241", "242"],
        "ring_time": 15,
    }
    step = {"id": "group", "type": "BELGROEP", "ring_group": "*8500", "next": "box"}
    result = call(with_flow(route, step, BOX), Caller(), NOW)
    leg = "[leg_timeout=15]"
    pickup = f"{leg}pickup/8500@{DOMAIN}"
    assert result.applications == [
        (
            "bridge",
            "{ignore_early_media=true}"
            f"{leg}user/241@{DOMAIN},{pickup}|{leg}user/242@{DOMAIN},{pickup}",
        ),
        VOICEMAIL,
    ]
    assert result.session.variables["call_timeout"] == "30"


def test_belgroep_without_next_uses_the_group_no_answer_destination(demo_route):
    step = {"id": "group", "type": "BELGROEP", "ring_group": "*8500"}
    result = call(with_flow(demo_route, step), Caller(), NOW)
    assert result.applications[-1] == VOICEMAIL  # ALLEN: no_answer voicemail:8000


def test_wachtrij_with_its_own_maximum_wait(demo_route):
    step = {"id": "queue", "type": "WACHTRIJ", "queue": "Wachtrij 1", "max_wait": 45, "next": "box"}
    result = call(with_flow(demo_route, step, BOX), Caller(), NOW)
    assert result.applications == [("callcenter", f"wachtrij-1-45s@{DOMAIN}"), VOICEMAIL]


def test_groep_op_picks_up_the_ringing_group_call(demo_route):
    step = {"id": "pickup", "type": "GROEP OP", "ring_group": "*8500"}
    result = call(with_flow(demo_route, step), Caller(), NOW)
    assert result.applications == [("pickup", f"8500@{DOMAIN}")]


def minimal_tiff() -> bytes:
    """A valid one-page 8x8 bilevel TIFF (uncompressed), as rxfax would store a fax page."""
    width = height = 8
    pixels = bytes([0b10101010] * height)
    entries = [
        (256, 3, 1, width),
        (257, 3, 1, height),
        (258, 3, 1, 1),
        (259, 3, 1, 1),
        (262, 3, 1, 0),
        (273, 4, 1, 0),
        (277, 3, 1, 1),
        (278, 3, 1, height),
        (279, 4, 1, len(pixels)),
    ]
    directory_offset = 8
    data_offset = directory_offset + 2 + 12 * len(entries) + 4
    body = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        value = data_offset if tag == 273 else value
        packed = struct.pack("<HHI", tag, kind, count)
        packed += struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        body += packed
    return b"II*\x00" + struct.pack("<I", directory_offset) + body + b"\x00" * 4 + pixels


def test_emailadres_then_fax_mails_a_pdf(demo_route, tmp_path):
    email = {"id": "mail", "type": "EMAILADRES", "email": "fax@demo.example.net", "next": "fax"}
    route = with_flow(demo_route, email, {"id": "fax", "type": "FAX"})
    module = FreeswitchModule(NOW)
    session = Session(Caller(fax_content=minimal_tiff()))
    adapter = SessionAdapter(session, module, lambda name: None, str(tmp_path))
    from provisioner.routing.engine import walk

    walk(route, adapter)
    tiff = tmp_path / "fax-call-1.tif"
    assert session.applications == [("rxfax", str(tiff))]
    assert [fax.email for fax in adapter.faxes] == ["fax@demo.example.net"]
    deliver_fax(module, str(tiff), "fax@demo.example.net", f"fax@{DOMAIN}", "0612345678")
    [mail] = module.mails
    assert mail["to"] == "fax@demo.example.net"
    assert mail["file"].endswith(".pdf")
    assert mail["content"].startswith(b"%PDF-")


def test_fax_without_an_address_falls_back(demo_route):
    result = call(with_flow(demo_route, {"id": "fax", "type": "FAX"}), Caller(), NOW)
    assert result.applications == [VOICEMAIL]
    assert any("e-mail" in message for _, message in result.freeswitch.log)


# --- Never silence ---------------------------------------------------------------------------


def test_a_missing_sound_falls_back_to_the_tenant_fallback(demo_route):
    route = copy.deepcopy(demo_route)
    del route["sounds"]["Welkom.mp3"]
    result = call(route, Caller(), NOW)
    assert result.applications == [VOICEMAIL]  # demo fallback: voicemail:8000
    assert any("Welkom.mp3" in message for level, message in result.freeswitch.log)


def test_a_missing_step_falls_back(demo_route):
    step = {"id": "sound", "type": "GELUID", "sound": "Welkom.mp3", "next": "nowhere"}
    result = call(with_flow(demo_route, step), Caller(), NOW)
    assert result.applications == [("playback", sound_path("Welkom.mp3")), VOICEMAIL]


def test_a_failing_fallback_tries_voicemail_then_says_goodbye(demo_route):
    route = with_flow(demo_route, {"id": "group", "type": "BELGROEP", "ring_group": "*9999"})
    route["fallback"] = "queue:Gone"
    assert call(route, Caller(), NOW).applications == [VOICEMAIL]
    route["default_voicemail"] = None
    result = call(route, Caller(), NOW)
    assert result.applications == GOODBYE
    assert ("hangup", "NORMAL_CLEARING") in result.session.events


def test_an_exception_in_a_step_is_logged_and_falls_back(demo_route):
    route = with_flow(demo_route, {"id": "broken", "type": "DOORVERBINDEN"})  # no target
    result = call(route, Caller(), NOW)
    assert result.applications == [VOICEMAIL]
    assert any(level == "err" and "KeyError" in message for level, message in result.freeswitch.log)


def test_a_branch_to_nothing_ends_with_a_goodbye(demo_route):
    step = {"id": "sound", "type": "GELUID", "sound": "Welkom.mp3"}
    result = call(with_flow(demo_route, step), Caller(), NOW)
    assert result.applications == [("playback", sound_path("Welkom.mp3")), *GOODBYE]


def test_an_endless_loop_is_cut_off(demo_route):
    loop = {"id": "loop", "type": "PREFIX", "prefix": "X", "next": "loop"}
    result = call(with_flow(demo_route, loop), Caller(), NOW)
    assert len(result.visited) == MAX_STEPS
    assert result.applications == GOODBYE


def test_the_walk_fits_in_mod_python_recursion_limit():
    """mod_python3 sets the recursion limit to 240; a long walk must not come near it."""
    script = f"""
import sys
sys.path.insert(0, {str(PROJECT)!r})
from tests.routing.conftest import demo_document, demo_sounds, amsterdam, call
from tests.routing.fake_freeswitch import Caller, Press
from provisioner.routing.route import build_route
document = demo_document()
route = build_route(document, "5000", "provider", demo_sounds(document))
sys.setrecursionlimit(240)
result = call(route, Caller(script=[Press("1")] * 40 + [Press("9")]), amsterdam(2026, 11, 25, 10))
print(len(result.visited), result.applications[-1][0])
"""
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT, timeout=60
    )
    assert output.returncode == 0, output.stderr
    # entry, openingstijden, welkom, then 41 rounds of wachtrij + keuzemenu, then voicemail.
    assert output.stdout.split() == [str(3 + 41 * 2 + 1), "voicemail"]


def test_a_queue_with_its_own_music(demo_route):
    route = copy.deepcopy(demo_route)
    route["queues"]["Wachtrij 1"]["music"] = "Gesloten.mp3"
    step = {"id": "queue", "type": "WACHTRIJ", "queue": "Wachtrij 1"}
    result = call(with_flow(route, step), Caller(agent_answers=True), NOW)
    assert result.session.variables["cc_moh_override"] == sound_path("Gesloten.mp3")
    assert result.applications == [("callcenter", f"wachtrij-1@{DOMAIN}")]
