"""The writers refuse values that would break a file; time zones from the zone data."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.errors import TemplateRenderError
from provisioner.phones.keyvalue import KeyValueWriter, QuotedWriter
from provisioner.phones.timezone import posix_time_zone, time_zone_rule
from provisioner.phones.xml import clean, skeleton_path


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\x00b", "a\u2028b", "a\x1bb"])
def test_key_value_writer_refuses_line_breaks_and_controls(value: str) -> None:
    writer = KeyValueWriter()
    with pytest.raises(TemplateRenderError, match="account.1.label"):
        writer.set("account.1.label", value)


def test_key_value_writer_refuses_bad_names_and_repeats() -> None:
    writer = KeyValueWriter()
    with pytest.raises(TemplateRenderError):
        writer.set("a = b", "1")
    writer.set("a", "1")
    with pytest.raises(TemplateRenderError, match="twice"):
        writer.set("a", "2")
    assert writer.render() == b"#!version:1.0.0.1\na = 1\n"


def test_quoted_writer_refuses_quotes() -> None:
    writer = QuotedWriter("# first")
    with pytest.raises(TemplateRenderError):
        writer.set("DISPLAY_NAME_1", 'Marc" ADMIN_PASS="x')
    writer.set("DISPLAY_NAME_1", "Marc")
    assert writer.render() == b'# first\r\nDISPLAY_NAME_1="Marc"\r\n\r\n'


def test_xml_text_refuses_control_characters_but_escapes_markup() -> None:
    with pytest.raises(TemplateRenderError):
        clean("a\x07b")
    assert clean("<a & b>") == "<a & b>"  # lxml escapes it when written


def test_model_skeleton_first_then_base(tmp_path: object) -> None:
    assert skeleton_path("snom", "D785").name == "base.xml"
    assert skeleton_path("snom", "../../etc").name == "base.xml"
    with pytest.raises(TemplateRenderError, match="add"):
        skeleton_path("nobody", None)


def test_amsterdam() -> None:
    rule = time_zone_rule("Europe/Amsterdam")
    assert (rule.standard_offset_minutes, rule.summer_offset_minutes) == (60, 120)
    assert (rule.start_month, rule.start_week, rule.start_weekday, rule.start_hour) == (3, 5, 6, 2)
    assert (rule.end_month, rule.end_week, rule.end_weekday, rule.end_hour) == (10, 5, 6, 3)
    assert posix_time_zone(rule) == "CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00"


def test_zone_without_summer_time() -> None:
    rule = time_zone_rule("Asia/Tokyo")
    assert not rule.has_summer_time and posix_time_zone(rule) == "JST-9"


def test_a_model_skeleton_is_taken_before_the_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provisioner.phones import xml

    folder = tmp_path / "snom"
    folder.mkdir()
    (folder / "base.xml").write_text("<settings><phone-settings/><functionKeys/></settings>")
    (folder / "D785.xml").write_text(
        "<settings><phone-settings><ui_theme perm='R'>dark</ui_theme></phone-settings>"
        "<functionKeys/></settings>"
    )
    monkeypatch.setattr(xml, "TEMPLATES", tmp_path)
    assert xml.load_skeleton("snom", "D785").findtext("phone-settings/ui_theme") == "dark"
    assert xml.load_skeleton("snom", "D735").find("phone-settings/ui_theme") is None
