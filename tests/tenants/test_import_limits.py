"""Imports are bounded: size (IMPORT_MAX_BYTES), nesting, alias expansion; duplicate keys are
refused. Each refusal is quick, names the limit or both lines, and leaves the store unchanged,
on the command line and on the API's document PUT (YAML and JSON)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from provisioner.errors import ValidationFailed
from provisioner.tenants.limits import MAX_NESTING
from provisioner.tenants.yaml_io import parse_yaml
from tests.tenants.test_yaml_io import exported

MEGABYTE = 1024 * 1024
HUGE = "name: demo\ndisplay_name: '" + "a" * (50 * MEGABYTE) + "'\n"
# Refused "at once": reading any of these as a parser would (the bomb's billion strings, a
# recursion 10,000 deep) takes minutes or fails outright; a refusal takes milliseconds, and this
# bound only leaves room for a busy machine (1 s failed under a load of 8 on two cores).
AT_ONCE_SECONDS = 10.0
DEEP = "name: demo\nsites: " + "[" * 10_000 + "]" * 10_000 + "\n"
DEEP_JSON = '{"name": "demo", "sites": ' + "[" * 10_000 + "]" * 10_000 + "}"
# Nine levels of ten aliases: a few hundred bytes that expand to a billion strings.
BOMB = "name: demo\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]\n" for level in range(1, 10)
)


def import_text(app: Flask, tmp_path: Path, text: str) -> tuple[int, str, float]:
    path = tmp_path / "tenant.yaml"
    path.write_text(text)
    started = time.monotonic()
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    return result.exit_code, result.output, time.monotonic() - started


def test_a_50_megabyte_file_is_refused_at_once_naming_the_limit(
    demo_app: Flask, tmp_path: Path
) -> None:
    before = exported(demo_app)
    code, output, seconds = import_text(demo_app, tmp_path, HUGE)
    assert code == 1 and seconds < AT_ONCE_SECONDS
    assert "IMPORT_MAX_BYTES" in output and "10485760" in output.replace(",", "")
    assert exported(demo_app) == before


def test_the_size_limit_is_a_setting(tmp_path: Path) -> None:
    from tests.conftest import make_app

    app = make_app(tmp_path, IMPORT_MAX_BYTES=1000)
    code, output, _ = import_text(app, tmp_path, "name: demo\ndisplay_name: '" + "a" * 1000 + "'\n")
    assert code == 1 and "IMPORT_MAX_BYTES" in output and "1000 bytes" in output.replace(",", "")


def test_a_10000_deep_nesting_is_refused_at_once_without_a_traceback(
    demo_app: Flask, tmp_path: Path
) -> None:
    before = exported(demo_app)
    code, output, seconds = import_text(demo_app, tmp_path, DEEP)
    assert code == 1 and seconds < AT_ONCE_SECONDS
    assert f"nested deeper than {MAX_NESTING} levels" in output and "line 2" in output
    assert "Traceback" not in output and "RecursionError" not in output
    assert exported(demo_app) == before


def test_an_alias_bomb_is_refused_at_once(demo_app: Flask, tmp_path: Path) -> None:
    code, output, seconds = import_text(demo_app, tmp_path, BOMB)
    assert code == 1 and seconds < AT_ONCE_SECONDS
    assert "aliases expand" in output


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="refers to itself"):
        parse_yaml("name: demo\nsites: &loop [*loop]\n")


def test_aliases_within_the_limit_are_still_read() -> None:
    data = parse_yaml("defaults: &site {networks: [192.0.2.0/24]}\nsites: [*site, *site]\n")
    assert data["sites"] == [{"networks": ["192.0.2.0/24"]}] * 2


def test_a_duplicate_key_names_both_lines(demo_app: Flask, tmp_path: Path) -> None:
    before = exported(demo_app)
    text = "name: demo\ndisplay_name: First\ntimezone: Europe/Amsterdam\ndisplay_name: Second\n"
    code, output, _ = import_text(demo_app, tmp_path, text)
    assert code == 1
    assert "duplicate key 'display_name'" in output and "lines 2 and 4" in output
    assert exported(demo_app) == before


def test_duplicate_keys_are_found_in_nested_mappings_and_merge_keys_may_be_overridden() -> None:
    with pytest.raises(ValidationFailed, match="lines 3 and 4"):
        parse_yaml("name: demo\nextensions:\n  - number: '240'\n    number: '241'\n")
    merged = parse_yaml("base: &base {a: 1, b: 2}\nitem:\n  <<: *base\n  b: 3\n")
    assert merged["item"] == {"a": 1, "b": 3}


def test_document_put_has_the_same_limits(
    client: FlaskClient, admin_headers: dict[str, str], demo_app: Flask
) -> None:
    before = exported(demo_app)
    yaml_headers = {**admin_headers, "Content-Type": "application/yaml"}
    json_headers = {**admin_headers, "Content-Type": "application/json"}
    url = "/api/v1/tenants/demo/document"
    for body, headers, status, words in [
        (HUGE, yaml_headers, 413, "IMPORT_MAX_BYTES"),
        (DEEP, yaml_headers, 422, f"nested deeper than {MAX_NESTING} levels"),
        (DEEP_JSON, json_headers, 422, f"nested deeper than {MAX_NESTING} levels"),
        (BOMB, yaml_headers, 422, "aliases expand"),
        ("name: demo\nname: demo\n", yaml_headers, 422, "lines 1 and 2"),
    ]:
        started = time.monotonic()
        response = client.put(url, data=body, headers=headers)
        assert time.monotonic() - started < AT_ONCE_SECONDS
        assert response.status_code == status, response.get_data(as_text=True)[:300]
        assert words in json.dumps(response.get_json())
    assert exported(demo_app) == before


def test_deep_json_elsewhere_in_the_api_is_a_4xx_too(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    body = '{"number": "299", "name": ' + "[" * 10_000 + "]" * 10_000 + "}"
    response = client.post(
        "/api/v1/tenants/demo/extensions",
        data=body,
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "nested deeper" in response.get_json()["error"]["problems"][0]["reason"]


@pytest.mark.parametrize(
    ("choices", "words"),
    [
        ("{1: a, 0x1: b}", "'0x1' on lines 1 and 1 ('1' is the same key)"),
        ("{1: a, +1: b}", "'+1'"),
        ("{1: a, 1_: b}", "'1_'"),
        ("{1: a, '1': b}", "duplicate key '1' on lines 1 and 1; keep one"),
        ("{true: a, True: b}", "'True'"),
        ("{1: a, true: b}", "'true'"),
    ],
    ids=["hex", "plus", "underscore", "number-and-text", "booleans", "one-and-true"],
)
def test_keys_written_differently_but_read_alike_are_duplicates(choices: str, words: str) -> None:
    """Compared as read, not as written: YAML would keep the last of each pair silently."""
    with pytest.raises(ValidationFailed, match="duplicate key") as refused:
        parse_yaml(f"choices: {choices}\n")
    assert words in str(refused.value)


def test_distinct_keys_stay_distinct() -> None:
    assert parse_yaml("choices: {1: a, 2: b, '*': c, 0x3: d}\nflags: {true: e, false: f}\n") == {
        "choices": {1: "a", 2: "b", "*": "c", 3: "d"},
        "flags": {True: "e", False: "f"},
    }
