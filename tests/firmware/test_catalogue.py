"""`provisioner firmware keygen | sign | add | list | verify | remove`: only files signed by a
trusted key get in, a refusal says why and copies nothing, and key rotation works."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from provisioner.firmware import catalogue_directory
from tests.conftest import make_app


@pytest.fixture
def catalogue_app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


@pytest.fixture
def runner(catalogue_app: Flask) -> FlaskCliRunner:
    return catalogue_app.test_cli_runner()


def keygen(runner: FlaskCliRunner, path: Path) -> str:
    result = runner.invoke(args=["firmware", "keygen", str(path)])
    assert result.exit_code == 0, result.output
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    return result.stdout.strip()


def image(tmp_path: Path, name: str = "T46U-108.86.0.95.rom") -> Path:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(os.urandom(100_000))
    return path


ADD = ["firmware", "add", "--vendor", "yealink", "--model", "T46U", "--version", "108.86.0.95"]


def catalogue_files(app: Flask) -> list[str]:
    root = catalogue_directory(app)
    if not root.exists():
        return []
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.name != ".lock"
    )


def test_add_with_a_trusted_key_then_list_verify_remove(
    catalogue_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    public = keygen(runner, tmp_path / "provider.key")
    catalogue_app.config["FIRMWARE_TRUSTED_KEYS"] = public
    source = image(tmp_path)
    added = runner.invoke(args=[*ADD, str(source), "--sign-with", str(tmp_path / "provider.key")])
    assert added.exit_code == 0, added.output
    assert catalogue_files(catalogue_app) == [
        "manifest.json",
        "yealink/108.86.0.95/T46U-108.86.0.95.rom",
    ]
    manifest = json.loads((catalogue_directory(catalogue_app) / "manifest.json").read_text())
    (entry,) = manifest["files"]
    assert entry["size"] == source.stat().st_size
    assert entry["models"] == ["T46U"] and entry["added_by"].startswith("cli:")
    listed = runner.invoke(args=["firmware", "list"])
    assert entry["sha256"][:12] in listed.output and "T46U-108.86.0.95.rom" in listed.output
    assert runner.invoke(args=["firmware", "verify"]).exit_code == 0

    removed = runner.invoke(args=["firmware", "remove", entry["sha256"][:12]])
    assert removed.exit_code == 0, removed.output
    assert catalogue_files(catalogue_app) == ["manifest.json"]


def test_a_file_signed_by_an_untrusted_key_is_refused_and_nothing_is_copied(
    catalogue_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    catalogue_app.config["FIRMWARE_TRUSTED_KEYS"] = keygen(runner, tmp_path / "provider.key")
    keygen(runner, tmp_path / "stranger.key")
    refused = runner.invoke(
        args=[*ADD, str(image(tmp_path)), "--sign-with", str(tmp_path / "stranger.key")]
    )
    assert refused.exit_code == 1
    assert "refused, nothing was copied" in refused.output
    assert "not made by a trusted key" in refused.output
    assert catalogue_files(catalogue_app) == []


def test_a_signature_for_another_version_does_not_verify(
    catalogue_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    catalogue_app.config["FIRMWARE_TRUSTED_KEYS"] = keygen(runner, tmp_path / "provider.key")
    source = image(tmp_path)
    signed = runner.invoke(
        args=[
            "firmware",
            "sign",
            str(source),
            "--vendor",
            "yealink",
            "--model",
            "T46U",
            "--version",
            "108.86.0.90",
            "--key",
            str(tmp_path / "provider.key"),
        ]
    )
    assert signed.exit_code == 0, signed.output
    relabelled = runner.invoke(args=[*ADD, str(source), "--signature", signed.stdout.strip()])
    assert relabelled.exit_code == 1
    assert "not made by a trusted key" in relabelled.output
    assert catalogue_files(catalogue_app) == []

    (tmp_path / "right.sig").write_text(
        runner.invoke(
            args=[
                "firmware",
                "sign",
                str(source),
                "--vendor",
                "yealink",
                "--model",
                "T46U",
                "--version",
                "108.86.0.95",
                "--key",
                str(tmp_path / "provider.key"),
            ]
        ).stdout
    )
    accepted = runner.invoke(args=[*ADD, str(source), "--signature", str(tmp_path / "right.sig")])
    assert accepted.exit_code == 0, accepted.output


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["--signature", "bm90IGEgc2lnbmF0dXJl"], "not made by a trusted key"),
        (["--signature", "***"], "not base64"),
        ([], "no signature; give --sign-with KEY or --signature SIGNATURE"),
    ],
)
def test_bad_or_missing_signatures_name_the_reason(
    catalogue_app: Flask,
    runner: FlaskCliRunner,
    tmp_path: Path,
    arguments: list[str],
    reason: str,
) -> None:
    catalogue_app.config["FIRMWARE_TRUSTED_KEYS"] = keygen(runner, tmp_path / "provider.key")
    result = runner.invoke(args=[*ADD, str(image(tmp_path)), *arguments])
    assert result.exit_code == 1
    assert reason in result.output
    assert catalogue_files(catalogue_app) == []


def test_without_a_trusted_key_nothing_gets_in(
    runner: FlaskCliRunner, catalogue_app: Flask, tmp_path: Path
) -> None:
    keygen(runner, tmp_path / "provider.key")
    result = runner.invoke(
        args=[*ADD, str(image(tmp_path)), "--sign-with", str(tmp_path / "provider.key")]
    )
    assert result.exit_code == 1
    # Named as the environment spells it, and when the server sees it.
    assert "set PROVISIONER_FIRMWARE_TRUSTED_KEYS in the environment" in result.output
    assert "restart the server" in result.output
    assert catalogue_files(catalogue_app) == []


def test_key_rotation_keeps_old_images_while_the_old_key_is_trusted(
    catalogue_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    old = keygen(runner, tmp_path / "old.key")
    new = keygen(runner, tmp_path / "new.key")
    catalogue_app.config["FIRMWARE_TRUSTED_KEYS"] = old
    added = runner.invoke(
        args=[*ADD, str(image(tmp_path)), "--sign-with", str(tmp_path / "old.key")]
    )
    assert added.exit_code == 0, added.output
    catalogue_app.config["FIRMWARE_TRUSTED_KEYS"] = f"{new},{old}"  # rotating: both
    newer = [*ADD[:-1], "108.86.0.99"]
    assert (
        runner.invoke(
            args=[
                *newer,
                str(image(tmp_path, "T46U-108.86.0.99.rom")),
                "--sign-with",
                str(tmp_path / "new.key"),
            ]
        ).exit_code
        == 0
    )
    assert runner.invoke(args=["firmware", "verify"]).exit_code == 0
    catalogue_app.config["FIRMWARE_TRUSTED_KEYS"] = new  # the old key retired
    verified = runner.invoke(args=["firmware", "verify"])
    assert verified.exit_code == 1
    assert "which FIRMWARE_TRUSTED_KEYS does not trust" in verified.output


def test_refusals_for_names_models_and_duplicates(
    catalogue_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    catalogue_app.config["FIRMWARE_TRUSTED_KEYS"] = keygen(runner, tmp_path / "p.key")
    key = ["--sign-with", str(tmp_path / "p.key")]
    assert runner.invoke(args=[*ADD, str(image(tmp_path)), *key]).exit_code == 0
    duplicate = runner.invoke(args=[*ADD, str(image(tmp_path, "other.rom")), *key])
    assert duplicate.exit_code == 1 and "is in the catalogue already" in duplicate.output
    wrong_model = runner.invoke(
        args=[*ADD[:4], "--model", "T99", *ADD[6:], str(image(tmp_path, "x.rom")), *key]
    )
    assert wrong_model.exit_code == 1 and "Yealink has no model T99" in wrong_model.output
    odd_name = runner.invoke(args=[*ADD, str(image(tmp_path, "bad name.rom")), *key])
    assert odd_name.exit_code == 1 and "rename it" in odd_name.output
    missing = runner.invoke(args=["firmware", "remove", "nothing"])
    assert missing.exit_code == 1 and "no firmware 'nothing' in the catalogue" in missing.output


def test_a_broken_manifest_is_never_rewritten(
    catalogue_app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    catalogue_app.config["FIRMWARE_TRUSTED_KEYS"] = keygen(runner, tmp_path / "p.key")
    manifest = catalogue_directory(catalogue_app) / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{"format": 1, "files": [')
    added = runner.invoke(args=[*ADD, str(image(tmp_path)), "--sign-with", str(tmp_path / "p.key")])
    assert added.exit_code == 1 and "is not a firmware manifest" in added.output
    assert manifest.read_text() == '{"format": 1, "files": ['
    assert catalogue_files(catalogue_app) == ["manifest.json"]


def test_a_trusted_key_that_is_not_one_stops_the_start(tmp_path: Path) -> None:
    from provisioner.errors import ConfigError

    with pytest.raises(ConfigError, match="FIRMWARE_TRUSTED_KEYS: 'bm90IGEga2V5'"):
        make_app(tmp_path, FIRMWARE_TRUSTED_KEYS="bm90IGEga2V5")


def test_the_catalogue_lives_in_the_instance_folder_by_default(tmp_path: Path) -> None:
    from provisioner.config import default_settings

    instance = tmp_path / "instance"
    assert default_settings(str(instance))["FIRMWARE_DIR"] == str(instance / "firmware")


def test_images_left_in_the_checkouts_old_folder_are_pointed_out(
    catalogue_app: Flask, tmp_path: Path
) -> None:
    from provisioner.firmware import warn_about_checkout_catalogue

    old = tmp_path / "checkout-firmware"
    old.mkdir()
    manifest = old / "manifest.json"
    manifest.write_text(json.dumps({"format": 1, "files": []}))
    assert warn_about_checkout_catalogue(catalogue_app, old) is None  # nothing left behind
    manifest.write_text(json.dumps({"format": 1, "files": [{"file_name": "T46U.rom"}]}))
    warning = warn_about_checkout_catalogue(catalogue_app, old)
    assert warning is not None
    assert "lists 1 firmware image(s)" in warning and f"set FIRMWARE_DIR={old}" in warning
    catalogue_app.config["FIRMWARE_DIR"] = str(old)  # pointed at it: nothing to say
    assert warn_about_checkout_catalogue(catalogue_app, old) is None
