"""Validation of whole documents: call-flow graphs of any size."""

from __future__ import annotations

from typing import Any

import pytest

from provisioner.errors import ValidationFailed
from provisioner.tenants.validation import parse_document


def long_flow(length: int, last_next: str | None) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        {"id": f"s{index}", "type": "PREFIX", "prefix": "x", "next": f"s{index + 1}"}
        for index in range(length)
    ]
    steps.append({"id": f"s{length}", "type": "PREFIX", "prefix": "x", "next": last_next})
    return {
        "name": "acme",
        "sip_domain": "acme.example.net",
        "call_flows": [{"name": "Lang", "steps": steps}],
    }


def test_a_long_flow_is_checked_without_running_out_of_stack() -> None:
    document = parse_document(long_flow(3000, None))
    assert len(document.call_flows[0].steps) == 3001


def test_a_silent_loop_at_the_end_of_a_long_flow_is_found() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_document(long_flow(3000, "s2998"))
    problem = caught.value.problems[0]
    assert problem.path == "call_flows[0].steps[2998]"
    assert problem.reason.startswith("loop s2998 -> s2999 -> s3000 -> s2998 never plays")


def flows(*steps_by_flow: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "acme",
        "sip_domain": "acme.example.net",
        "sounds": [{"name": "Welkom.mp3"}],
        "call_flows": [
            {"name": f"F{index}", "steps": steps} for index, steps in enumerate(steps_by_flow)
        ],
    }


def divert(step_id: str, flow: str) -> dict[str, Any]:
    return {"id": step_id, "type": "OMLEIDING", "destination": f"call_flow:{flow}"}


def test_a_diversion_back_into_its_own_flow_without_a_wait_is_refused() -> None:
    data = flows([{"id": "p", "type": "PREFIX", "prefix": "x", "next": "d"}, divert("d", "F0")])
    with pytest.raises(ValidationFailed) as caught:
        parse_document(data)
    problem = caught.value.problems[0]
    assert problem.path == "call_flows[0].steps[1].destination"
    assert "F0/p -> F0/d -> F0/p" in problem.reason


def test_two_flows_diverting_to_each_other_without_a_wait_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_document(flows([divert("a", "F1")], [divert("b", "F0")]))
    assert caught.value.problems[0].path.endswith(".steps[0].destination")


def test_a_diversion_loop_through_a_waiting_step_is_allowed() -> None:
    welcome = {"id": "w", "type": "GELUID", "sound": "Welkom.mp3", "next": "d"}
    document = parse_document(flows([welcome, divert("d", "F1")], [divert("b", "F0")]))
    assert len(document.call_flows) == 2


@pytest.mark.parametrize("code", ["*97", "*98"])
def test_a_number_on_a_star_code_of_the_switch_is_refused(code: str) -> None:
    # The switch answers *97 and *98 itself (voicemail), before any tenant number.
    data = {
        "name": "acme",
        "sip_domain": "acme.example.net",
        "ring_groups": [{"number": code, "name": "Sales"}],
    }
    with pytest.raises(ValidationFailed) as caught:
        parse_document(data)
    problem = caught.value.problems[0]
    assert problem.path == "ring_groups[0].number"
    assert "star code" in problem.reason


def test_a_number_on_the_pickup_code_of_an_extension_is_refused() -> None:
    # *8 + 240 takes the call ringing at 240 (the BLF keys dial it); a ring group there would
    # never be reached.
    data = {
        "name": "acme",
        "sip_domain": "acme.example.net",
        "extensions": [{"number": "240", "name": "Marc"}],
        "ring_groups": [{"number": "*8240", "name": "Sales", "members": ["240"]}],
    }
    with pytest.raises(ValidationFailed) as caught:
        parse_document(data)
    problem = caught.value.problems[0]
    assert problem.path == "ring_groups[0].number"
    assert "picks up a call ringing at extension 240" in problem.reason


def test_a_sip_domain_in_capitals_is_taken_in_lower_case() -> None:
    # DNS names ignore case; the switch and the phones get the one lower-case form.
    document = parse_document({"name": "acme", "sip_domain": "Acme.SIP.Example.net"})
    assert document.sip_domain == "acme.sip.example.net"


def with_exclude(*names: str) -> dict[str, Any]:
    condition = {"name": "Open", "holidays": {"country": "NL", "exclude": list(names)}}
    return {"name": "acme", "sip_domain": "acme.example.net", "time_conditions": [condition]}


def test_a_holiday_kept_open_by_its_name_is_accepted_in_any_case() -> None:
    document = parse_document(with_exclude("Goede vrijdag", "bevrijdingsdag"))
    holiday_set = document.time_conditions[0].holidays
    assert holiday_set is not None and holiday_set.exclude == ["Goede vrijdag", "bevrijdingsdag"]


def test_a_holiday_name_the_calendar_does_not_have_is_refused() -> None:
    # A typo (or the English name) was ignored, and the office stayed closed that day.
    with pytest.raises(ValidationFailed) as caught:
        parse_document(with_exclude("Goede vrijdag", "Good Friday"))
    problem = caught.value.problems[0]
    assert problem.path == "time_conditions[0].holidays.exclude[1]"
    assert "Goede vrijdag" in problem.reason


def test_an_unknown_country_is_refused() -> None:
    # The country decides the emergency numbers that are kept free and routed straight out.
    with pytest.raises(ValidationFailed) as caught:
        parse_document({"name": "acme", "sip_domain": "acme.example.net", "country": "XX"})
    problem = caught.value.problems[0]
    assert problem.path == "country"
    assert "NL" in problem.reason


def demo_with(change: Any) -> dict[str, Any]:
    """The demo document as YAML data, changed by ``change`` (a function of the data)."""
    from provisioner.tenants.yaml_io import parse_yaml
    from tests.conftest import DEMO_FILE

    data: dict[str, Any] = parse_yaml(DEMO_FILE.read_text(encoding="utf-8"))
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (
            lambda data: data["extensions"][0].update(nmae="Marc"),
            "extensions[0].nmae",
            "unknown field; did you mean name?",
        ),
        (
            lambda data: data["call_flows"][0]["steps"][0].update(time_conditon="x"),
            "call_flows[0].steps[0].time_conditon",
            "unknown field; did you mean time_condition?",
        ),
        (
            lambda data: data["phones"][0].update(function_keys=[{"type": "blf", "valeu": "1"}]),
            "phones[0].function_keys[0].valeu",
            "unknown field; did you mean value?",
        ),
        (
            lambda data: data.update(timzone="UTC"),
            "timzone",
            "unknown field; did you mean timezone?",
        ),
        (
            lambda data: data["extensions"][0].update(colour="red"),
            "extensions[0].colour",
            "unknown field",
        ),
    ],
    ids=["extension", "step", "function key", "settings", "nothing near"],
)
def test_an_unknown_field_suggests_the_nearest_valid_name(
    change: Any, path: str, reason: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_document(demo_with(change))
    assert [(problem.path, problem.reason) for problem in caught.value.problems] == [(path, reason)]


@pytest.mark.parametrize(
    "choices",
    [{1: "a", "1": "b"}, {"1": "a", " 1": "b"}],
    ids=["number-and-text", "padded-text"],
)
def test_a_menu_digit_given_twice_is_refused_not_merged(choices: dict[object, str]) -> None:
    """The API's JSON and the YAML both reach the menu; two spellings of one digit would
    become one choice, the last winning silently."""
    from pydantic import ValidationError

    from provisioner.tenants.schema.call_flows import MenuStep

    with pytest.raises(ValidationError, match="the digit 1 is given twice"):
        MenuStep.model_validate(
            {"id": "menu", "type": "KEUZEMENU", "prompt": "welkom", "choices": choices}
        )
    step = MenuStep.model_validate(
        {"id": "menu", "type": "KEUZEMENU", "prompt": "welkom", "choices": {1: "a", "2": "b"}}
    )
    assert step.choices == {"1": "a", "2": "b"}
