"""docs/firmware.md's steps, as an operator types them: the installed `provisioner` script in a
fresh instance folder, settings from the environment only."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import DEMO_FILE
from tests.test_console_commands import console_environment, console_script

VERSION = "108.86.0.95"


def console(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """`provisioner ARGUMENTS` through the console script; its result (any exit status)."""
    return subprocess.run(
        [str(console_script()), *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=environment["PROVISIONER_INSTANCE"],
        timeout=60,
    )


def succeeds(environment: dict[str, str], *arguments: str) -> str:
    """`provisioner ARGUMENTS`, which must exit 0; its standard output."""
    finished = console(environment, *arguments)
    assert finished.returncode == 0, (arguments, finished.stdout, finished.stderr)
    return finished.stdout


def test_the_documented_firmware_workflow_runs_from_the_console(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    environment = {
        **console_environment(),
        "PROVISIONER_INSTANCE": str(instance),
        "PROVISIONER_FIRMWARE_DIR": str(tmp_path / "firmware"),
    }
    image = instance / f"T46U-{VERSION}.rom"
    image.write_bytes(os.urandom(4096))
    succeeds(environment, "import", str(DEMO_FILE), "--yes")

    public_key = succeeds(environment, "firmware", "keygen", "provider.key").strip()
    adding = ("firmware", "add", image.name, "--vendor", "yealink", "--model", "T46U")
    adding += ("--version", VERSION, "--sign-with", "provider.key")

    refused = console(environment, *adding)
    assert refused.returncode == 1
    assert "set PROVISIONER_FIRMWARE_TRUSTED_KEYS in the environment" in refused.stderr
    assert "restart the server" in refused.stderr
    assert not (tmp_path / "firmware" / "yealink").exists()  # nothing was copied

    environment["PROVISIONER_FIRMWARE_TRUSTED_KEYS"] = public_key
    assert "added" in succeeds(environment, *adding)
    assert VERSION in succeeds(environment, "firmware", "list")
    assert "\tok" in succeeds(environment, "firmware", "verify")
    started = succeeds(
        environment,
        *("firmware", "rollout", "start", "demo", "--vendor", "yealink", "--model", "T46U"),
        *("--version", VERSION, "--percentage", "10", "--canary", "80:5e:c0:12:34:56"),
    )
    assert started.startswith("rollout 1: demo yealink T46U -> 108.86.0.95"), started
    assert "(active, 100%" in succeeds(
        environment, "firmware", "rollout", "widen", "1", "--percentage", "100"
    )
    assert "rollout 1" in succeeds(environment, "firmware", "rollout", "show", "1")
