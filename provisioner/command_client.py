"""The `provisioner` command's entry point: a warm command server runs the command when one is up.

Importing click, SQLAlchemy and the store's tables takes about 0.45 s on a two-core machine,
several times a list command's own work. So, as Mercurial's chg does, the command hands its
arguments, environment, working folder and its standard input, output and error to a command
server (``provisioner.command_server``) that has imported all that once and forks a child per
command; the child's exit status comes back as the command's. Where no server answers, the
command runs in this process, as it always did, and starts a server in the background for the
next one (the server stops after ``PROVISIONER_COMMAND_SERVER_IDLE_SECONDS`` without a command,
600 by default, or as soon as the code it imported changes on disk). The long-running commands
(``IN_PROCESS``) always run here. ``PROVISIONER_COMMAND_SERVER=off`` turns the server off.

Only the same user reaches a server: its socket is in a folder of that user's own (mode 0700,
under ``PROVISIONER_COMMAND_SERVER_FOLDER``, ``$XDG_RUNTIME_DIR`` or ``/tmp``), which is used
only when it is that user's and no one else may enter it, and the server checks the connecting
process's user id. One server serves one interpreter with one code path (the virtualenv, the
package's folder and ``PYTHONPATH``); each command brings its own environment, so settings,
instance folders and time zones are the command's own.

This module imports only the standard library's light modules: it is what runs before the
choice is made.
"""

from __future__ import annotations

import array
import hashlib
import json
import os
import signal
import socket
import stat
import struct
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

ENABLED = "PROVISIONER_COMMAND_SERVER"
FOLDER = "PROVISIONER_COMMAND_SERVER_FOLDER"
OFF = frozenset({"0", "off", "false", "no"})
# Commands that serve or poll until stopped: they run in the process the operator started.
IN_PROCESS = frozenset({"serve", "poll", "poller", "traps"})
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
STATUS = struct.Struct("!i")  # the child's process id, then its exit status
LENGTH = struct.Struct("!I")  # the request's length, before the request


def main() -> None:
    """Run the command on the command server, else here (starting a server for next time)."""
    arguments = sys.argv[1:]
    if uses_server(arguments, os.environ):
        path = socket_path()
        if path is not None:
            status = run_on_server(path, arguments)
            if status is not None:
                sys.exit(status)
            start_server(path)
    from provisioner.cli import main as run_here

    run_here()


def uses_server(arguments: list[str], environment: Mapping[str, str]) -> bool:
    """Whether this command goes to the command server: on unless turned off, and never for
    the long-running commands."""
    if environment.get(ENABLED, "on").strip().lower() in OFF:
        return False
    command = next((argument for argument in arguments if not argument.startswith("-")), None)
    return command not in IN_PROCESS


def socket_path() -> str | None:
    """Where this interpreter's command server listens; None when there is no private folder
    for it (one that another user owns or may enter is never used)."""
    base = os.environ.get(FOLDER) or os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    folder = os.path.join(base, f"provisioner-commands-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    if not is_private_folder(folder):
        return None
    return os.path.join(folder, f"{server_key()}.sock")


def is_private_folder(folder: str) -> bool:
    """A real folder (not a link) of this user's that no one else may read, enter or write."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and stat.S_IMODE(info.st_mode) & 0o077 == 0
    )


def server_key() -> str:
    """What a server's code depends on, as a short name: the interpreter, the environment it
    runs in, where this package is and the import path added to it."""
    parts = (
        sys.executable,
        sys.prefix,
        os.path.dirname(os.path.abspath(__file__)),
        os.environ.get("PYTHONPATH", ""),
    )
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def run_on_server(path: str, arguments: list[str]) -> int | None:
    """The command's exit status, run by the server at ``path``; None when no server took it
    (none listening, or one that stopped because its code changed)."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(path)
        connection.sendmsg(
            [*framed(request(arguments))],
            [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", standard_descriptors()))],
        )
        child = read_number(connection)
        if child is None:
            return None
        for number in FORWARDED_SIGNALS:
            signal.signal(number, lambda received, _frame: forward(child, received))
        status = read_number(connection)
    except OSError:
        return None
    finally:
        connection.close()
    return 1 if status is None else status


def request(arguments: list[str]) -> dict[str, object]:
    """What the server's child needs to be this command."""
    return {
        "arguments": arguments,
        "folder": os.getcwd(),
        "environment": dict(os.environ),
        "encodings": [
            [stream.encoding, stream.errors] if stream is not None else None
            for stream in (sys.stdin, sys.stdout, sys.stderr)
        ],
    }


def framed(message: dict[str, object]) -> tuple[bytes, bytes]:
    """``message`` as JSON after its length."""
    body = json.dumps(message).encode()
    return LENGTH.pack(len(body)), body


def standard_descriptors() -> list[int]:
    """Standard input, output and error; /dev/null for any this process was started without."""
    descriptors = []
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            descriptor = os.open(os.devnull, os.O_RDWR)
        descriptors.append(descriptor)
    return descriptors


def read_number(connection: socket.socket) -> int | None:
    """One number the server sends, or None when the connection ends first."""
    data = b""
    while len(data) < STATUS.size:
        chunk = connection.recv(STATUS.size - len(data))
        if not chunk:
            return None
        data += chunk
    number: int = STATUS.unpack(data)[0]
    return number


def forward(child: int, received: int) -> None:
    """Pass a signal this command got (Ctrl-C, say) on to the child running it."""
    try:
        os.kill(child, received)
    except ProcessLookupError:
        pass


def start_server(path: str) -> None:
    """Start a command server for ``path`` in the background, in a session of its own, its
    standard streams on /dev/null; it gives up by itself when another one started first."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        os.posix_spawn(
            sys.executable,
            # -P: not the current folder first on the import path (a checkout there would win)
            [sys.executable, "-P", "-m", "provisioner.command_server", path],
            dict(os.environ),
            file_actions=[(os.POSIX_SPAWN_DUP2, null, descriptor) for descriptor in (0, 1, 2)],
            setsid=True,
        )
    except OSError:
        pass  # the command runs here all the same
    finally:
        os.close(null)
