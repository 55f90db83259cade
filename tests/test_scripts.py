"""The setup scripts on a machine where nothing is installed yet (stubbed system tools)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

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


def run_script(name: str, environment: dict[str, str], recorder: Path) -> str:
    """Run scripts/<name> (its exit status does not matter here); the recorded calls."""
    subprocess.run(
        ["bash", str(REPOSITORY / "scripts" / name)],
        env=environment,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return recorder.read_text() if recorder.exists() else ""


def test_setup_installs_python_on_a_machine_without_it(tmp_path: Path) -> None:
    recorder = tmp_path / "calls.txt"
    environment = {
        **os.environ,
        "PATH": bare_path(tmp_path / "bin", str(recorder)),
        "SYSTEM_PYTHON": str(tmp_path / "no-python3"),
    }
    assert "install -y -qq python3 python3-venv" in run_script("setup", environment, recorder)


def python_stub(path: Path, recorder: Path, base_prefix: str) -> Path:
    """A Python 3.11+ with venv that records its calls and answers sys.base_prefix."""
    path.write_text(
        f'#!/bin/bash\necho "{path.name} $*" >> {recorder}\n'
        f'case "$*" in *base_prefix*) echo {base_prefix};; esac\n'
    )
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("system_python", "chosen"),
    [("system-python3", "system-python3"), ("absent", "python3")],
    ids=["the system's when there is one", "else python3 on PATH"],
)
def test_setup_makes_the_virtualenv_with_the_system_python(
    tmp_path: Path, system_python: str, chosen: str
) -> None:
    repository = tmp_path / "repository"
    (repository / "scripts").mkdir(parents=True)
    shutil.copy(REPOSITORY / "scripts" / "setup", repository / "scripts" / "setup")
    (repository / "scripts" / "technician-assets").write_text("true\n")
    recorder = tmp_path / "calls.txt"
    tools = Path(bare_path(tmp_path / "bin", str(recorder)))
    python_stub(tools / "npm", recorder, "")
    python_stub(tools / "python3", recorder, "/root/.pyenv/versions/3.11.7")
    python_stub(tmp_path / "system-python3", recorder, "/usr")
    environment = {**os.environ, "PATH": str(tools), "SYSTEM_PYTHON": str(tmp_path / system_python)}
    subprocess.run(
        ["bash", str(repository / "scripts" / "setup")],
        env=environment,
        capture_output=True,
        timeout=60,
        check=False,
    )
    venvs = [line for line in recorder.read_text().splitlines() if " -m venv " in line]
    assert venvs == [f"{chosen} -m venv --clear .venv"]


def test_snmpsim_setup_rebuilds_a_virtualenv_left_without_pip(tmp_path: Path) -> None:
    # What `python3 -m venv` leaves behind when ensurepip is missing (python3-venv not yet
    # installed): bin/python exists, pip does not. A second run must not trust it.
    venv = tmp_path / "snmpsim"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(venv)], check=True)
    recorder = tmp_path / "calls.txt"
    python = tmp_path / "python3"
    python.write_text(f'#!/bin/bash\necho "python3 $*" >> {recorder}\nexit 1\n')
    python.chmod(0o755)
    environment = {
        **os.environ,
        "PROVISIONER_SNMPSIM_VENV": str(venv),
        "PROVISIONER_SNMPSIM_USER": "root",
        "PROVISIONER_SNMPSIM_PYTHON": str(python),
    }
    assert f"python3 -m venv --clear {venv}" in run_script("snmpsim-setup", environment, recorder)
