"""A real FreeSWITCH for the end-to-end tests, run from the configuration of
``tests/e2e/switch_config.py``.

``FreeSwitch`` runs that configuration from a temporary folder (``-nf``: in the foreground,
supervised by the test) with Debian's python3 first on ``PATH`` and the routing's pure-Python
dependencies plus the project on ``PYTHONPATH``, as mod_python3 needs (docs §5), and talks to it
with fs_cli over the event socket.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.switch_config import (
    EVENT_SOCKET_PASSWORD,
    FREESWITCH_PREFIX,
    SwitchSettings,
)


def switch_environment(python_path: str) -> dict[str, str]:
    """Debian's python3 first on PATH, no virtualenv or pyenv variables (docs §5)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "PYENV", "PROVISIONER_"))
    }
    environment["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin"
    environment["PYTHONPATH"] = python_path
    return environment


@dataclass
class FreeSwitch:
    """One lab switch process and the way to talk to it (fs_cli over the event socket)."""

    settings: SwitchSettings
    python_path: str
    process: subprocess.Popen[bytes] | None = None
    log_offset: int = 0
    output: Path = field(init=False)

    def __post_init__(self) -> None:
        self.output = self.settings.folder / "log" / "console.txt"

    @property
    def log_file(self) -> Path:
        """FreeSWITCH's own log (mod_logfile)."""
        return self.settings.folder / "log" / "freeswitch.log"

    def start(self, timeout: float = 60.0) -> None:
        """Start in the foreground and wait until both sofia profiles are running."""
        folder = self.settings.folder
        command = [str(FREESWITCH_PREFIX / "bin" / "freeswitch"), "-nf", "-nonat"]
        for option, name in (
            ("-conf", "conf"),
            ("-log", "log"),
            ("-db", "db"),
            ("-run", "run"),
            ("-scripts", "scripts"),
            ("-storage", "storage"),
            ("-recordings", "recordings"),
            ("-sounds", "sounds"),
            ("-temp", "temp"),
        ):
            command += [option, str(folder / name)]
        with self.output.open("ab") as console:
            self.process = subprocess.Popen(
                command,
                stdout=console,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=switch_environment(self.python_path),
                start_new_session=True,
            )
        wait_until(self._profiles_running, timeout, "the sofia profiles to run", self._why_not)

    def _why_not(self) -> str:
        if self.process is not None and self.process.poll() is not None:
            return f"FreeSWITCH exited with {self.process.returncode}: {tail(self.output)}"
        return tail(self.log_file)

    def _profiles_running(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(self._why_not())
        status = self.api("sofia status", timeout=5, check=False)
        return status.count("RUNNING") >= 2

    def api(self, command: str, timeout: float = 15, check: bool = True) -> str:
        """Run one API command (``fs_cli -x``) and return its answer."""
        result = subprocess.run(
            [
                str(FREESWITCH_PREFIX / "bin" / "fs_cli"),
                "-H",
                "127.0.0.1",
                "-P",
                str(self.settings.ports.event_socket),
                "-p",
                EVENT_SOCKET_PASSWORD,
                "-x",
                command,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"fs_cli -x {command!r}: {result.stdout}{result.stderr}")
        return result.stdout

    def mark_log(self) -> None:
        """Later ``new_log`` calls read from here on."""
        self.log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0

    def new_log(self) -> str:
        """The log written since the last ``mark_log``."""
        if not self.log_file.exists():
            return ""
        with self.log_file.open("rb") as log:
            log.seek(self.log_offset)
            return log.read().decode(errors="replace")

    def stop(self) -> None:
        """Shut down (``fsctl shutdown``), killed if it does not go within 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.api("fsctl shutdown", timeout=5, check=False)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a file, for failure messages."""
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    explain: Callable[[], str] = lambda: "",
    step: Callable[[float], None] = time.sleep,
) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds saying what."""
    deadline = time.monotonic() + timeout
    for _ in range(100_000):
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{explain()}")
        step(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def routing_python_path(project: Path, folder: Path) -> str:
    """A virtualenv made with Debian's python3 holding the routing's pure-Python dependencies,
    then the project: what mod_python3 imports (docs §5)."""
    venv = folder / "switch-venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True)
        pins = [
            line
            for line in requirement_lines(project)
            if line.split("==")[0].lower() in ROUTING_PACKAGES
        ]
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *pins],
            check=True,
        )
    site = next(iter(sorted((venv / "lib").glob("python3*/site-packages"))))
    return f"{site}:{project}"


# docs/freeswitch.md §5: what the routing imports besides the standard library (holidays
# brings python-dateutil).
ROUTING_PACKAGES = ("phonenumbers", "holidays")


def requirement_lines(project: Path) -> Iterator[str]:
    """The pinned lines of requirements.txt."""
    for line in (project / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "==" in line:
            yield line
