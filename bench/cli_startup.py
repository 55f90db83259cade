"""How long the `provisioner` command takes to start, against `python -c pass`, with hyperfine.

    .venv/bin/python bench/cli_startup.py                 # 20 runs each, target 0.4 s
    .venv/bin/python bench/cli_startup.py --runs 10 --target 0.5

Needs hyperfine (the Debian package `hyperfine`; installed with apt-get when missing and run
as root, waiting for another apt or dpkg to finish). Every command runs through the installed
console script in a temporary instance folder holding the demo tenant, like an operator's
shell, with the package byte-compiled first (as pip and a first run leave it; with
PYTHONDONTWRITEBYTECODE set, every run would compile our sources again). Beside
`python -c pass` (the interpreter alone) it times the dependency floor: click, SQLAlchemy's
ORM and the tenants' tables, which a command that reads tenants must import. Each command
runs twice: as an operator runs it, through the command server (``provisioner.command_client``;
the warm-up runs start it, in a folder of the bench's own, stopped at the end), and in a
process of its own (``PROVISIONER_COMMAND_SERVER=off``, also what the first command after an
idle server stopped costs). Prints each run's median and best wall time, its user CPU (of a
served command, the client's alone: the server's child is not the client's), and its
ratio to both; exits 1 when a served command's median is over the target (a busy machine can
do that: the load is printed).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
CONSOLE = PYTHON.parent / "provisioner"
REFERENCE = f"{PYTHON} -c pass"
FLOOR = f"{PYTHON} -c 'import click, sqlalchemy.orm, provisioner.store.models.tenants'"
COMMANDS = (
    "--help",
    "tenants list",
    "phones list",
    "discovered list",
    "token list",
    "network list",
    "firmware list",
    "firmware rollout list",
    "diagnose 805ec0123456",  # the demo's phone: reads the store, no network
    "export demo",  # the whole tenant as YAML
    "token create --role support",  # a write: a token (and its audit row) per run
)
OWN_PROCESS = "PROVISIONER_COMMAND_SERVER=off"


def arguments() -> argparse.Namespace:
    """The command line: runs per command and the target in seconds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per command [20]")
    parser.add_argument("--target", type=float, default=0.4, help="seconds, median [0.4]")
    return parser.parse_args()


def ensure_hyperfine() -> bool:
    """True when hyperfine is on PATH, after installing it with apt-get if we may (root)."""
    if shutil.which("hyperfine") is not None:
        return True
    if os.geteuid() != 0:
        print("hyperfine is missing: apt-get install hyperfine (as root)", file=sys.stderr)
        return False
    print("installing hyperfine with apt-get (waiting for any other apt or dpkg)", file=sys.stderr)
    subprocess.run(
        ["apt-get", "-o", "DPkg::Lock::Timeout=900", "install", "-y", "-q", "hyperfine"],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        check=False,
        stdout=subprocess.DEVNULL,
        timeout=1200,
    )
    return shutil.which("hyperfine") is not None


def prepared_environment(instance: Path, servers: Path) -> dict[str, str]:
    """An instance folder with the demo tenant imported (and the schema migrated); command
    servers under ``servers``."""
    path = os.pathsep.join(filter(None, (str(PROJECT), os.environ.get("PYTHONPATH"))))
    environment = {
        **os.environ,
        "PROVISIONER_INSTANCE": str(instance),
        "PYTHONPATH": path,
        "PROVISIONER_COMMAND_SERVER": "on",
        "PROVISIONER_COMMAND_SERVER_FOLDER": str(servers),
    }
    demo = PROJECT / "examples" / "demo.yaml"
    subprocess.run(
        [str(CONSOLE), "import", str(demo), "--yes"],
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return environment


def stop_servers(folder: Path) -> None:
    """Stop the command servers listening under ``folder`` (SIGTERM, then wait a little)."""
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if b"provisioner.command_server" in command and str(folder).encode() in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGTERM)


def hyperfine(
    commands: list[str], runs: int, environment: dict[str, str]
) -> list[dict[str, float]]:
    """hyperfine's results (times in seconds) for ``commands``, in their order."""
    with tempfile.NamedTemporaryFile(suffix=".json") as export:
        subprocess.run(
            ["hyperfine", "--shell=none", "--warmup", "3", "--runs", str(runs)]
            + ["--export-json", export.name, "--style", "none", *commands],
            env=environment,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=60 * len(commands) + runs * 10 * len(commands),
        )
        results: list[dict[str, float]] = json.loads(Path(export.name).read_text())["results"]
    return results


def main() -> int:
    """Time the commands, print the table, and say whether each met the target."""
    options = arguments()
    if not ensure_hyperfine():
        return 2
    load = Path("/proc/loadavg").read_text().split()[:3]
    compileall.compile_dir(PROJECT / "provisioner", quiet=1)
    with (
        tempfile.TemporaryDirectory() as folder,
        tempfile.TemporaryDirectory(dir="/tmp") as servers,
    ):
        environment = prepared_environment(Path(folder), Path(servers))
        timed = [REFERENCE, FLOOR]
        for command in COMMANDS:
            timed += [f"{CONSOLE} {command}", f"env {OWN_PROCESS} {CONSOLE} {command}"]
        try:
            results = hyperfine(timed, options.runs, environment)
        finally:
            stop_servers(Path(servers))
    reference, floor = results[0]["median"], results[1]["median"]
    print(f"load average before: {' '.join(load)}, after: {Path('/proc/loadavg').read_text()[:14]}")
    print(f"{'command':<44}{'median':>9}{'best':>9}{'user':>9}{'x pass':>9}{'x floor':>9}")
    over = []
    names = ["python -c pass", "floor"]
    for command in COMMANDS:
        names += [command, f"{command} (own process)"]
    for name, result in zip(names, results, strict=True):
        median = result["median"]
        print(
            f"{name:<44}{median:>8.3f}s{result['min']:>8.3f}s{result['user']:>8.3f}s"
            f"{median / reference:>9.1f}{median / floor:>9.2f}"
        )
        if name in COMMANDS and median > options.target:
            over.append(name)
    if over:
        print(f"over {options.target} s (median): {', '.join(over)}")
        return 1
    print(f"every command's median is within {options.target} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
