"""The setup scripts on a machine where nothing is installed yet (stubbed system tools)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def bare_path(folder: Path, recorder: str) -> str:
    """A PATH with only a shell and coreutils basics, plus apt-get/sudo stubs that record."""
    folder.mkdir()
    for tool in ("bash", "dirname", "id", "cat"):
        found = shutil.which(tool)
        if found:
            (folder / tool).symlink_to(found)
    for stub in ("apt-get", "sudo"):
        # Each call is recorded; the first install stops the script (this test is about what
        # it asks for, not about installing).
        (folder / stub).write_text(
            f'#!/bin/bash\necho "{stub} $*" >> {recorder}\n'
            'case " $* " in *" install "*) exit 1;; esac\n'
        )
        (folder / stub).chmod(0o755)
    return str(folder)


def test_setup_installs_python_on_a_machine_without_it(tmp_path: Path) -> None:
    recorder = tmp_path / "calls.txt"
    environment = {**os.environ, "PATH": bare_path(tmp_path / "bin", str(recorder))}
    subprocess.run(
        ["bash", str(REPOSITORY / "scripts" / "setup")],
        env=environment,
        capture_output=True,
        timeout=60,
        check=False,
    )
    calls = recorder.read_text() if recorder.exists() else ""
    assert "install -y -qq python3 python3-venv" in calls
