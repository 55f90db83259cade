"""Configuration is read without Flask, by Flask's rules: the command line's app (no Flask)
and create_app's Flask app must get the same settings from the same files and variables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Config, Flask

from provisioner.config import default_settings, instance_path, load_settings

INSTANCE_FILE = """
HTTP_PORT = 9000
AUDIT_RETENTION_DAYS = 30
lower_case = "ignored"
SEEN_NAME = __name__
SEEN_FILE = __file__
"""
ENVIRONMENT = {
    "PROVISIONER_HTTP_THREADS": "4",  # JSON: a number
    "PROVISIONER_AUDIT_RETENTION_DAYS": "90",  # after the instance file
    "PROVISIONER_LOG_FORMAT": "json",  # not JSON: the text
    "PROVISIONER_NETWORK_POLLER_NAME": '"poller-1"',  # JSON text
    "PROVISIONER_EXTRA__nested__key": "[1, 2]",  # nested dicts
    "PROVISIONER_lower": "true",
    "OTHER_HTTP_PORT": "1",  # another prefix
}


def test_settings_are_layered_as_flask_layers_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text(INSTANCE_FILE)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    overrides = {"DATABASE_URL": "sqlite://", "lower_override": 1}

    flask_config = Config(str(folder), default_settings(str(folder)))
    flask_config.from_pyfile("config.py", silent=True)
    flask_config.from_prefixed_env("PROVISIONER")
    flask_config.from_mapping(overrides)
    settings = load_settings(str(folder), overrides)

    assert settings == dict(flask_config)
    assert settings["HTTP_PORT"] == 9000 and settings["HTTP_THREADS"] == 4
    assert settings["AUDIT_RETENTION_DAYS"] == 90 and settings["LOG_FORMAT"] == "json"
    assert settings["EXTRA"] == {"nested": {"key": [1, 2]}}


def test_no_instance_file_is_no_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("PROVISIONER_")]:
        monkeypatch.delenv(name)
    settings = load_settings(str(tmp_path / "nowhere"), None)
    assert settings == default_settings(str(tmp_path / "nowhere"))


def test_the_default_instance_folder_is_flasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROVISIONER_INSTANCE", raising=False)
    assert instance_path() == Flask("provisioner", instance_relative_config=True).instance_path


def test_a_relative_instance_folder_is_refused_as_flask_refuses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROVISIONER_INSTANCE", "relative/instance")
    with pytest.raises(ValueError, match="must be absolute"):
        instance_path()
