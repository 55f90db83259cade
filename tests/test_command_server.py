"""The `provisioner` command through its command server: the same answers as a command run in
its own process, the command's own environment, Ctrl-C passed on, a private socket, and a
server that steps aside when the code changes or nothing comes. Every command here runs the
installed console script, as an operator's shell does."""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from provisioner.command_client import read_number, send_request, socket_path, uses_server
from provisioner.command_server import code_stamp, exit_status
from tests.conftest import DEMO_FILE, command_server_processes, stop_command_servers
from tests.test_console_commands import console_environment, console_script

WAIT_SECONDS = 60


def wait_until(condition: Callable[[], object], what: str) -> None:
    """Poll ``condition`` until it holds, for at most WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT_SECONDS} s for {what}")
        time.sleep(0.05)


class Shell:
    """An operator's shell: the console script with an instance folder and, when ``served``,
    a command-server folder of the test's own."""

    def __init__(self, instance: Path, servers: Path) -> None:
        self.instance = instance
        self.servers = servers

    def environment(self, served: bool = True, /, **extra: str) -> dict[str, str]:
        return {
            **console_environment(),
            "PROVISIONER_INSTANCE": str(self.instance),
            "PROVISIONER_COMMAND_SERVER": "on" if served else "off",
            "PROVISIONER_COMMAND_SERVER_FOLDER": str(self.servers),
            **extra,
        }

    def run(self, *arguments: str, served: bool = True, **extra: str) -> tuple[int, str, str]:
        finished = subprocess.run(
            [str(console_script()), *arguments],
            capture_output=True,
            text=True,
            env=self.environment(served, **extra),
            timeout=120,
        )
        return finished.returncode, finished.stdout, finished.stderr

    def start(
        self, *arguments: str, before: tuple[str, ...] = (), own_session: bool = False
    ) -> subprocess.Popen[str]:
        """The command in the background, its input a pipe; ``before``: a command that runs
        it (nohup, say)."""
        return subprocess.Popen(
            [*before, str(console_script()), *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.environment(),
            start_new_session=own_session,
        )

    def socket(self) -> Path:
        """Where this shell's command server listens."""
        environment = self.environment()
        script = "from provisioner.command_client import socket_path; print(socket_path())"
        finished = subprocess.run(
            [str(Path(console_script()).parent / "python"), "-c", script],
            capture_output=True,
            text=True,
            env=environment,
            check=True,
            timeout=60,
        )
        return Path(finished.stdout.strip())

    def server(self) -> int | None:
        """The process id of this shell's running command server, if one runs."""
        for pid in command_server_processes(self.servers):
            return pid
        return None

    def warm(self) -> int:
        """A command that starts the server, then the server's id once it listens."""
        assert self.run("tenants", "list")[0] == 0
        wait_until(self.socket().exists, "the command server's socket")
        server = self.server()
        assert server is not None
        return server


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                found.append(int(entry.name))
    return found


def reading_its_input(processes: list[int]) -> bool:
    """Whether one of ``processes`` has opened its standard input a second time (the command
    opened /dev/stdin and reads it)."""
    for pid in processes:
        try:
            descriptors = {
                entry.name: os.readlink(entry) for entry in Path(f"/proc/{pid}/fd").iterdir()
            }
        except OSError:
            continue
        own_input = descriptors.get("0")
        if any(target == own_input for name, target in descriptors.items() if name != "0"):
            return True
    return False


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    """A shell on the demo tenant; its command servers are stopped afterwards. The servers'
    folder is short: a Unix socket's path holds at most 107 bytes."""
    servers = Path(tempfile.mkdtemp(prefix="pcs", dir="/tmp"))
    shell = Shell(tmp_path / "instance", servers)
    finished = shell.run("import", str(DEMO_FILE), "--yes", served=False)
    assert finished[0] == 0, finished
    yield shell
    stop_command_servers(servers)
    assert not command_server_processes(servers)
    shutil.rmtree(servers)


COMMANDS = (
    ("tenants", "list"),
    ("phones", "list"),
    ("export", "demo"),
    ("diagnose", "805ec0123456"),
    ("--version",),
    ("nosuch",),  # click's usage error, status 2
    ("export", "nosuch"),  # our error, status 1
    ("token", "list", "--role", "nosuch"),
)


def test_commands_answer_through_the_server_as_in_a_process_of_their_own(shell: Shell) -> None:
    shell.warm()
    for command in COMMANDS:
        assert shell.run(*command) == shell.run(*command, served=False), command


def test_each_command_brings_its_own_environment(shell: Shell, tmp_path: Path) -> None:
    shell.warm()
    empty = tmp_path / "empty"
    status, listing, _ = shell.run("tenants", "list", PROVISIONER_INSTANCE=str(empty))
    assert status == 0
    assert "demo" not in listing
    assert "demo" in shell.run("tenants", "list")[1]
    status, _, error = shell.run("tenants", "list", PROVISIONER_HTTP_PORT="abc")
    assert status == 1
    assert error.startswith("Error:") and "HTTP_PORT" in error


def test_a_command_runs_in_a_child_of_the_server_and_ctrl_c_reaches_it(shell: Shell) -> None:
    server = shell.warm()
    # Ctrl-C as a terminal sends it: SIGINT at its default even where the tests run with it
    # ignored (a script's background job), which the command would rightly keep ignoring.
    interactive = ("env", "--default-signal=INT")
    waiting = shell.start("import", "/dev/stdin", "--yes", before=interactive)  # reads input
    try:
        wait_until(lambda: reading_its_input(children(server)), "the command to read its input")
        waiting.send_signal(signal.SIGINT)
        waiting.wait(timeout=60)  # its input still open: only the Ctrl-C can end it
        _, error = waiting.communicate(timeout=60)
    finally:
        waiting.kill()
    assert waiting.returncode == 1
    assert "Aborted!" in error
    wait_until(lambda: not children(server), "the interrupted command to end")


def test_a_command_asks_and_reads_the_answer_from_its_own_input(
    shell: Shell, tmp_path: Path
) -> None:
    shell.warm()
    document = yaml.safe_load(shell.run("export", "demo")[1])
    document["extensions"] = [
        extension for extension in document["extensions"] if extension["number"] != "243"
    ]
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(document))
    for answer, status in (("n\n", 1), ("y\n", 0)):
        finished = subprocess.run(
            [str(console_script()), "import", str(changed)],
            input=answer,
            capture_output=True,
            text=True,
            env=shell.environment(),
            timeout=120,
        )
        assert "Remove extensions 243? [y/N]:" in finished.stdout
        assert finished.returncode == status, finished.stderr
    assert "\t3\t" in shell.run("tenants", "list")[1]  # three extensions left


def test_without_a_server_the_command_runs_itself_and_starts_one(shell: Shell) -> None:
    assert shell.server() is None
    assert shell.run("tenants", "list")[0] == 0
    wait_until(shell.server, "a command server")
    wait_until(shell.socket().exists, "its socket")
    stat = os.stat(shell.socket())
    assert stat.st_mode & 0o777 == 0o600
    assert os.stat(shell.socket().parent).st_mode & 0o777 == 0o700


def test_an_idle_server_stops_and_removes_its_socket(shell: Shell) -> None:
    assert shell.run("tenants", "list", PROVISIONER_COMMAND_SERVER_IDLE_SECONDS="1")[0] == 0
    wait_until(shell.server, "a command server")
    wait_until(shell.socket().exists, "its socket")
    wait_until(lambda: shell.server() is None, "the idle server to stop")
    assert not shell.socket().exists()


def test_a_folder_others_may_enter_is_not_used_and_the_command_says_so(shell: Shell) -> None:
    shared = shell.servers / f"provisioner-commands-{os.getuid()}"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    status, listing, warning = shell.run("tenants", "list")
    assert (status, listing) == shell.run("tenants", "list", served=False)[:2]
    assert f"{shared} is not this user's alone" in warning
    assert shell.server() is None
    assert list(shared.iterdir()) == []


def test_a_running_command_outlives_its_server_stopping(shell: Shell) -> None:
    server = shell.warm()
    exported = shell.run("export", "demo")[1].replace("Demo Telecom B.V.", "Demo Telecom")
    waiting = shell.start("import", "/dev/stdin", "--yes")
    try:
        wait_until(lambda: reading_its_input(children(server)), "the command to read its input")
        os.kill(server, signal.SIGTERM)
        wait_until(lambda: not shell.socket().exists(), "the server to give up its socket")
        output, error = waiting.communicate(exported, timeout=60)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, error
    assert "imported tenant demo" in output
    wait_until(lambda: shell.server() is None, "the server to end after its last command")
    assert "Demo Telecom\t" in shell.run("tenants", "list")[1]


def test_a_command_whose_client_went_away_is_hung_up(shell: Shell) -> None:
    server = shell.warm()
    waiting = shell.start("import", "/dev/stdin", "--yes")
    try:
        wait_until(lambda: reading_its_input(children(server)), "the command to read its input")
        waiting.kill()
        waiting.communicate(timeout=60)
        wait_until(lambda: not children(server), "the abandoned command to end")
    finally:
        waiting.kill()
        waiting.communicate(timeout=60)


def test_the_server_keeps_none_of_the_first_commands_other_descriptors(shell: Shell) -> None:
    reading, writing = os.pipe()
    try:
        started = subprocess.Popen(
            [str(console_script()), "tenants", "list"],
            stdout=subprocess.DEVNULL,
            env=shell.environment(),
            pass_fds=[writing],
        )
        os.close(writing)
        assert started.wait(timeout=120) == 0
        wait_until(shell.server, "a command server")
        wait_until(shell.socket().exists, "its socket")
        ready, _, _ = select.select([reading], [], [], WAIT_SECONDS)
        assert ready and os.read(reading, 1) == b""  # the end: no process holds it open
    finally:
        os.close(reading)


def test_a_served_command_keeps_its_umask_and_leaves_sqlite_whole(
    shell: Shell, tmp_path: Path
) -> None:
    shell.warm()
    fresh = tmp_path / "fresh"
    finished = subprocess.run(
        [str(console_script()), "import", str(DEMO_FILE), "--yes"],
        capture_output=True,
        text=True,
        env=shell.environment(True, PROVISIONER_INSTANCE=str(fresh)),
        umask=0o077,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    database = fresh / "provisioner.sqlite3"
    assert database.stat().st_mode & 0o777 == 0o600
    log = fresh / "provisioner.sqlite3-wal"
    assert not log.exists() or log.stat().st_size == 0  # written back: a copy of the file is whole


def test_serving_and_polling_commands_run_in_the_operators_process() -> None:
    for command in (["serve"], ["serve", "--http", "127.0.0.1:9000"], ["poller"], ["traps"]):
        assert not uses_server(command, {})
    assert uses_server(["tenants", "list"], {})
    assert uses_server(["--help"], {})
    assert not uses_server(["tenants", "list"], {"PROVISIONER_COMMAND_SERVER": "off"})


def test_the_code_stamp_moves_when_a_file_of_the_package_changes(tmp_path: Path) -> None:
    package = tmp_path / "package"
    (package / "inner").mkdir(parents=True)
    module = package / "inner" / "module.py"
    module.write_text("")
    os.utime(module, ns=(1_000_000_000, 1_000_000_000))
    before = code_stamp(package)
    os.utime(module, ns=(2_000_000_000, 2_000_000_000))
    assert code_stamp(package) != before


def test_the_client_learns_the_exit_code_or_the_signal_that_ended_a_command() -> None:
    assert exit_status(0) == 0
    assert exit_status(3 << 8) == 3
    assert exit_status(signal.SIGKILL) == -signal.SIGKILL


def test_no_private_folder_means_no_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISIONER_COMMAND_SERVER_FOLDER", str(tmp_path / "missing"))
    assert socket_path() is None


def test_a_child_that_hears_no_go_runs_nothing(shell: Shell) -> None:
    shell.warm()
    before = shell.run("token", "list")[1]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(shell.socket()))
        message = {
            "arguments": ["token", "create", "--role", "support"],
            "folder": "/",
            "environment": shell.environment(),
            "umask": 0o022,
            "encodings": [None, None, None],
        }
        with open(os.devnull, "w") as null:
            send_request(connection, message, [null.fileno()] * 3)
            child = read_number(connection)
            assert child is not None and child > 0
        # no go: the client went away before saying it
    wait_until(lambda: not Path(f"/proc/{child}").exists(), "the child to end")
    assert shell.run("token", "list")[1] == before


def signalled_then_fed(
    shell: Shell, number: int, started: subprocess.Popen[str]
) -> tuple[int, str]:
    """``started``'s exit status and standard error, signalled with ``number`` while it waits
    for its input (the demo tenant, as exported), then given it."""
    server = shell.server()
    assert server is not None
    exported = shell.run("export", "demo")[1]
    try:
        wait_until(lambda: reading_its_input(children(server)), "the command to read its input")
        started.send_signal(number)
        _, error = started.communicate(exported, timeout=60)
    finally:
        started.kill()
    return started.returncode, error


def test_a_command_run_under_nohup_outlives_a_hang_up(shell: Shell) -> None:
    shell.warm()
    waiting = shell.start("import", "/dev/stdin", "--yes", before=("nohup",))
    status, error = signalled_then_fed(shell, signal.SIGHUP, waiting)
    assert status == 0, error


def test_a_ctrl_z_without_job_control_leaves_the_command_running(shell: Shell) -> None:
    shell.warm()
    waiting = shell.start("import", "/dev/stdin", "--yes", own_session=True)  # no job control
    status, error = signalled_then_fed(shell, signal.SIGTSTP, waiting)
    assert status == 0, error
