"""Import and export of whole tenants: round trip, and all-or-nothing refusal of bad files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from provisioner.store import get_store
from tests.conftest import DEMO_FILE, import_demo, make_app

SOUNDS = DEMO_FILE.parent / "sounds"


def demo_data() -> dict[str, Any]:
    return yaml.safe_load(DEMO_FILE.read_text())


def write_variant(tmp_path: Path, data: dict[str, Any]) -> Path:
    (tmp_path / "sounds").mkdir(exist_ok=True)
    for sound in SOUNDS.iterdir():
        (tmp_path / "sounds" / sound.name).write_bytes(sound.read_bytes())
    path = tmp_path / "tenant.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def exported(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["export", "demo", *args])
    assert result.exit_code == 0, result.output
    return result.output


def normalized(data: dict[str, Any]) -> dict[str, Any]:
    from provisioner.tenants.validation import parse_document
    from provisioner.tenants.yaml_io import document_to_data

    document = document_to_data(parse_document(data), include_secrets=False)
    for sound in document["sounds"]:
        sound.pop("duration_seconds", None)
    return document


def test_export_of_the_imported_demo_is_equivalent_to_the_file(demo_app: Flask) -> None:
    assert normalized(yaml.safe_load(exported(demo_app))) == normalized(demo_data())


def test_export_then_import_on_a_fresh_store_gives_the_same_export(
    demo_app: Flask, tmp_path: Path
) -> None:
    first = exported(demo_app, "--output", str(tmp_path / "out"))
    assert "exported" in first
    second_app = make_app(tmp_path / "second")
    result = second_app.test_cli_runner().invoke(
        args=["import", str(tmp_path / "out" / "demo.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert exported(second_app) == exported(demo_app)


def test_export_omits_secrets_unless_asked(demo_app: Flask) -> None:
    plain = yaml.safe_load(exported(demo_app))
    assert all("sip_password" not in item for item in plain["extensions"])
    with_secrets = yaml.safe_load(exported(demo_app, "--include-secrets"))
    assert all(len(item["sip_password"]) >= 12 for item in with_secrets["extensions"])


def test_sound_durations_are_measured_on_import(demo_app: Flask) -> None:
    sounds = {sound["name"]: sound for sound in yaml.safe_load(exported(demo_app))["sounds"]}
    assert 1.0 < sounds["Welkom.mp3"]["duration_seconds"] < 5.0


def broken_reference(data: dict[str, Any]) -> None:
    data["call_flows"][0]["steps"][5]["target"] = "241x"


def missing_extension(data: dict[str, Any]) -> None:
    data["call_flows"][0]["steps"][5]["target"] = "249"


def duplicate_number(data: dict[str, Any]) -> None:
    data["numbers"].append({"number": "240", "destination": "extension:240"})


def flow_on_112(data: dict[str, Any]) -> None:
    data["numbers"].append({"number": "112", "destination": "call_flow:Hoofdroute"})


def malformed_mac(data: dict[str, Any]) -> None:
    data["phones"][0]["mac"] = "80:5e:c0:12:34"


def time_range_backwards(data: dict[str, Any]) -> None:
    data["time_conditions"][0]["weekly"][0]["end"] = "07:00"


def unreachable_step(data: dict[str, Any]) -> None:
    data["call_flows"][0]["steps"].append({"id": "wees", "type": "GELUID", "sound": "Welkom.mp3"})


def silent_loop(data: dict[str, Any]) -> None:
    steps = data["call_flows"][0]["steps"]
    steps[0]["open"] = "prefix"
    steps.append({"id": "prefix", "type": "PREFIX", "prefix": "Sales", "next": "openingstijden"})


def public_number_wrong_form(data: dict[str, Any]) -> None:
    data["numbers"][1]["number"] = "+3120"


@pytest.mark.parametrize(
    ("break_it", "path", "reason"),
    [
        (missing_extension, "call_flows[0].steps[5].target", "extension 249 does not exist"),
        (broken_reference, "call_flows[0].steps[5].target", "not a"),
        (duplicate_number, "numbers[2].number", "240 is already used by extensions[0].number"),
        (flow_on_112, "numbers[2].number", "emergency number 112"),
        (malformed_mac, "phones[0].mac", "not a MAC address"),
        (time_range_backwards, "time_conditions[0].weekly[0].end", "before it starts"),
        (unreachable_step, "call_flows[0].steps[9]", "cannot be reached"),
        (silent_loop, "call_flows[0].steps[0]", "loop openingstijden -> prefix -> openingstijden"),
        (public_number_wrong_form, "numbers[1].number", "not a valid public number"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_invalid_file_is_refused_with_the_field_path_and_changes_nothing(
    demo_app: Flask, tmp_path: Path, break_it: Any, path: str, reason: str
) -> None:
    before = exported(demo_app)
    data = demo_data()
    data["display_name"] = "Changed, but must not land"
    break_it(data)
    result = demo_app.test_cli_runner().invoke(args=["import", str(write_variant(tmp_path, data))])
    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert any(line.startswith(f"{path}:") and reason in line for line in lines), result.output
    assert exported(demo_app) == before


def test_yaml_syntax_error_names_the_line(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: demo\nextensions: [\n")
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert "line 3" in result.output


def test_reimport_with_a_change_updates_in_place_and_audits_it(
    demo_app: Flask, tmp_path: Path
) -> None:
    from provisioner.security.audit import recent

    data = demo_data()
    data["extensions"][1]["name"] = "Sanne Jansen"
    result = demo_app.test_cli_runner().invoke(args=["import", str(write_variant(tmp_path, data))])
    assert result.exit_code == 0, result.output
    with get_store(demo_app).reading() as session:
        events = recent(session, "demo", limit=5)
    update = events[0]
    assert (update.action, update.object_type, update.object_key) == ("update", "extensions", "241")
    assert update.changes == {"name": ["Sanne", "Sanne Jansen"]}
    assert update.actor.startswith("cli:")


def test_reimporting_the_same_file_changes_nothing(demo_app: Flask) -> None:
    from provisioner.security.audit import recent

    with get_store(demo_app).reading() as session:
        count = len(recent(session, "demo", limit=1000))
    import_demo(demo_app)
    with get_store(demo_app).reading() as session:
        assert len(recent(session, "demo", limit=1000)) == count


def test_queue_names_that_become_the_same_switch_queue_are_refused() -> None:
    from provisioner.errors import ValidationFailed
    from provisioner.tenants.validation import parse_document

    data = demo_data()
    data["queues"].append({"name": "wachtrij-1"})
    data["queues"].append({"name": "Support 45s"})
    with pytest.raises(ValidationFailed) as caught:
        parse_document(data)
    reasons = {problem.path: problem.reason for problem in caught.value.problems}
    assert "same switch queue as queues[0].name" in reasons["queues[1].name"]
    assert "wait-time variant" in reasons["queues[2].name"]


def test_an_export_to_stdout_edited_and_reimported_keeps_the_stored_audio(
    demo_app: Flask, tmp_path: Path
) -> None:
    # `provisioner export demo > demo.yaml`, edit, `provisioner import demo.yaml`: the file
    # names sounds/*.mp3 that were not written; the audio already stored is kept.
    data = yaml.safe_load(exported(demo_app))
    data["extensions"][1]["name"] = "Sanne Jansen"
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = demo_app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    reexported = yaml.safe_load(exported(demo_app))
    assert reexported["sounds"] == data["sounds"]
    assert reexported["extensions"][1]["name"] == "Sanne Jansen"


def test_a_new_sound_without_its_file_is_still_refused(demo_app: Flask, tmp_path: Path) -> None:
    data = demo_data()
    data["sounds"].append({"name": "Nieuw.mp3", "file": "sounds/Nieuw.mp3"})
    result = demo_app.test_cli_runner().invoke(args=["import", str(write_variant(tmp_path, data))])
    assert result.exit_code != 0
    assert "sounds[4].file" in result.output


def test_numbers_written_without_quotes_are_read_as_the_same_numbers() -> None:
    # YAML reads `number: 240` and `choices: {1: wachtrij}` as integers; a customer writes it so.
    from provisioner.tenants.validation import parse_document

    text = DEMO_FILE.read_text()
    for quoted in ('"240"', '"241"', '"242"', '"5000"', '"8000"', '"1"', '"2"', '"3"', '"9"'):
        text = text.replace(quoted, quoted.strip('"'))
    assert text != DEMO_FILE.read_text()
    document = parse_document(yaml.safe_load(text))
    assert normalized(document.model_dump(mode="json")) == normalized(demo_data())


def test_a_date_written_without_quotes_is_read_as_that_date() -> None:
    # YAML reads `date: 2026-12-31` as a date object; a customer writes it so.
    from provisioner.tenants.validation import parse_document

    data = demo_data()
    data["time_conditions"][0]["closed"].append(yaml.safe_load("{date: 2026-12-31, name: Oud}"))
    document = parse_document(data)
    assert document.time_conditions[0].closed[-1].date == "2026-12-31"


def test_times_and_numbers_with_a_leading_zero_are_read_as_written() -> None:
    # YAML 1.1 reads `end: 17:30` as 1050 (base 60) and `0202103356` as an octal number.
    from provisioner.tenants.yaml_io import parse_yaml

    text = DEMO_FILE.read_text()
    for quoted in ('"08:30"', '"17:30"', '"15:00"', '"24:00"'):
        text = text.replace(quoted, quoted.strip('"'))
    assert parse_yaml(text) == demo_data()
    assert parse_yaml("{target: 0202103356, end: 9:05, count: 42, mask: 0x1f}") == {
        "target": "0202103356",
        "end": "9:05",
        "count": 42,
        "mask": 31,
    }


def test_yes_no_on_and_off_are_text_and_only_true_and_false_are_booleans() -> None:
    # YAML 1.1 reads `country: NO` (Norway) as False; YAML 1.2 knows only true and false.
    from provisioner.tenants.yaml_io import parse_yaml

    assert parse_yaml("{country: NO, label: on, other: Yes, switch: true, anonymous: False}") == {
        "country": "NO",
        "label": "on",
        "other": "Yes",
        "switch": True,
        "anonymous": False,
    }
