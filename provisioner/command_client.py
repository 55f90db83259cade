"""The `provisioner` command's entry point: a warm command server runs the command when one is up.

Importing click, SQLAlchemy and the store's tables takes about 0.45 s on a two-core machine,
several times a list command's own work. So, as Mercurial's chg does, the command hands its
arguments, environment, working folder, umask and its standard input, output and error to a
command server (``provisioner.command_server``) that has imported all that once and forks a
child per command; the child's exit status comes back as the command's. Where no server
answers, the command runs in this process, as it always did, and starts a server in the
background for the next one (the server stops after ``PROVISIONER_COMMAND_SERVER_IDLE_SECONDS``
without a command, 600 by default, or as soon as the code it imported changes on disk). The
long-running commands (``IN_PROCESS``) always run here. ``PROVISIONER_COMMAND_SERVER=off``
turns the server off.

The exchange: the client sends its request (with its three descriptors); the server forks and
sends the child's process id (or ``REFUSED``: run it yourself); the client then sends ``GO``,
and only then does the child run the command, so a command never runs twice: once the client
has said go it never runs the command itself, and a child that hears no go runs nothing. Last,
the server sends the exit status. Meanwhile the client passes on Ctrl-C and the like, stops
the child with itself (Ctrl-Z) and continues it; the server hangs a child up when its client
goes away.

Only the same user reaches a server: its socket is in a folder of that user's own (mode 0700,
under ``PROVISIONER_COMMAND_SERVER_FOLDER``, ``$XDG_RUNTIME_DIR`` or ``/tmp``), which is used
only when it is that user's and no one else may enter it; the server checks the connecting
process's user, and the client the listening one's before it sends anything. A server serves
one interpreter with one code path, one user with the same groups, limits and priority, and
the same interpreter settings (``server_key``); each command brings its own environment, so
settings, instance folders and time zones are the command's own.

This module imports only the standard library's light modules: it runs before the choice.
"""

from __future__ import annotations

import array
import hashlib
import json
import os
import resource
import signal
import socket
import stat
import struct
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

ENABLED = "PROVISIONER_COMMAND_SERVER"
FOLDER = "PROVISIONER_COMMAND_SERVER_FOLDER"
OFF = frozenset({"0", "off", "false", "no"})
# Commands that serve or poll until stopped: they run in the process the operator started.
IN_PROCESS = frozenset({"serve", "poll", "poller", "traps"})
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
HANDLED_SIGNALS = (*FORWARDED_SIGNALS, signal.SIGTSTP)
# The signals a server starts with their default handling, whatever its first client ignored.
DEFAULT_SIGNALS = frozenset(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP}
# The child's process id (or REFUSED), then its exit status (minus the number of the signal
# that ended it).
NUMBER = struct.Struct("!i")
LENGTH = struct.Struct("!I")  # the request's length, before the request
REFUSED = -1  # the server will not run this command (its code changed): run it yourself
GO = b"g"
# Settings the interpreter or a module reads when it starts, not per command.
STARTUP_VARIABLES = ("PYTHON", "LC_", "LANG", "LD_", "PROVISIONER_PHONE_TEMPLATES")


def main() -> None:
    """Run the command on the command server, else here (starting a server for next time)."""
    arguments = sys.argv[1:]
    if uses_server(arguments, os.environ):
        path = socket_path()
        if path is not None:
            status = run_on_server(path, arguments)
            if status is not None:
                end_as(status)
            start_server(path)
    from provisioner.cli import main as run_here

    run_here()


def uses_server(arguments: list[str], environment: Mapping[str, str]) -> bool:
    """Whether this command goes to the command server: on unless turned off, never for the
    long-running commands, nor for a background job of a terminal (the child has no terminal
    of its own, so the terminal could not stop it from reading)."""
    if environment.get(ENABLED, "on").strip().lower() in OFF:
        return False
    command = next((argument for argument in arguments if not argument.startswith("-")), None)
    return command not in IN_PROCESS and not in_background()


def in_background() -> bool:
    """Whether this process is a background job of the terminal on its standard input."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) != os.getpgrp()
    except OSError:
        return False


def end_as(status: int) -> None:
    """Exit as the command did: with its status, or by the signal that ended it (a shell's
    loop stops on a Ctrl-C only when its command died of it)."""
    if status < 0:
        try:
            signal.signal(-status, signal.SIG_DFL)
        except (OSError, ValueError):  # SIGKILL's cannot be set (nor needs to be)
            pass
        os.kill(os.getpid(), -status)
        status = 128 - status
    sys.exit(status)


def socket_path() -> str | None:
    """Where this interpreter's command server listens; None when there is no private folder
    for it (one that another user owns or may enter is never used: said on standard error)."""
    base = os.path.abspath(os.environ.get(FOLDER) or os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
    folder = os.path.join(base, f"provisioner-commands-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    if not is_private_folder(folder):
        print(
            f"provisioner: {folder} is not this user's alone; commands run without the command"
            " server (remove the folder, or set PROVISIONER_COMMAND_SERVER_FOLDER)",
            file=sys.stderr,
        )
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
    """What a server's children inherit from it, as a short name: the interpreter, where this
    package is, the import path, the user's groups, its file limit and priority, and the
    settings read at start-up. A command differing in any of them gets a server of its own."""
    startup = sorted(
        f"{name}={value}"
        for name, value in os.environ.items()
        if name.startswith(STARTUP_VARIABLES)
    )
    parts = (
        sys.executable,
        sys.prefix,
        os.path.dirname(os.path.abspath(__file__)),
        f"{os.getgid()} {sorted(os.getgroups())}",
        f"{resource.getrlimit(resource.RLIMIT_NOFILE)} {os.nice(0)}",
        *startup,
    )
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def run_on_server(path: str, arguments: list[str]) -> int | None:
    """The command's exit status (minus the signal's number when a signal ended it), run by
    the server at ``path``; None when no server took it (none listening, another user's, or
    one whose code changed): then nothing ran."""
    descriptors = standard_descriptors()  # first: a closed one must not become the socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        saved = {number: signal.getsignal(number) for number in HANDLED_SIGNALS}
        try:
            connection.connect(path)
            if peer_user(connection) != os.getuid():
                return None
            send_request(connection, request(arguments), descriptors)
            child = read_number(connection)
            if child is None or child <= 0:
                return None
            forward_signals(child, saved)
            connection.sendall(GO)
        except OSError:
            restore_signals(saved)
            return None  # the child heard no go: it ran nothing
        try:
            status = read_number(connection)
        except OSError:
            status = None
    if status is None:
        print("provisioner: the command server stopped while the command ran", file=sys.stderr)
        return 1
    return status


def peer_user(connection: socket.socket) -> int:
    """The user the process at the other end runs as (SO_PEERCRED)."""
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
    )
    user: int = struct.unpack("3i", credentials)[1]
    return user


def request(arguments: list[str]) -> dict[str, object]:
    """What the server's child needs to be this command."""
    mask = os.umask(0o022)
    os.umask(mask)
    return {
        "arguments": arguments,
        "folder": os.getcwd(),
        "environment": dict(os.environ),
        "umask": mask,
        "encodings": [
            [stream.encoding, stream.errors] if stream is not None else None
            for stream in (sys.stdin, sys.stdout, sys.stderr)
        ],
    }


def send_request(
    connection: socket.socket, message: dict[str, object], descriptors: list[int]
) -> None:
    """``message`` as JSON after its length, ``descriptors`` (the child's standard streams)
    with the length."""
    body = json.dumps(message).encode()
    head = LENGTH.pack(len(body))
    rights = array.array("i", descriptors)
    sent = connection.sendmsg([head], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)])
    connection.sendall(head[sent:] + body)


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
    data = read_exactly(connection, NUMBER.size)
    if data is None:
        return None
    number: int = NUMBER.unpack(data)[0]
    return number


def read_exactly(connection: socket.socket, size: int, start: bytes = b"") -> bytes | None:
    """``size`` bytes from ``connection`` (``start`` being the first of them), or None when
    the connection ends first."""
    data = start
    while len(data) < size:
        chunk = connection.recv(min(size - len(data), 1 << 20))
        if not chunk:
            return None
        data += chunk
    return data


def forward_signals(child: int, saved: dict[signal.Signals, Any]) -> None:
    """Pass the signals this command gets on to the child running it, but those this process
    was told to ignore (nohup, a script's background job): Ctrl-C and the like as they are;
    Ctrl-Z stops the child, then this process, and continues the child with it."""

    def forward(received: int, _frame: object) -> None:
        with_child(child, received)

    def suspend(_received: int, _frame: object) -> None:
        with_child(child, signal.SIGSTOP)  # its session has no terminal to stop it by
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)  # returns once continued (or at once, where
        signal.signal(signal.SIGTSTP, suspend)  # the system drops it: no job control)
        with_child(child, signal.SIGCONT)

    for number in FORWARDED_SIGNALS:
        if saved[number] != signal.SIG_IGN:
            signal.signal(number, forward)
    if saved[signal.SIGTSTP] != signal.SIG_IGN:
        signal.signal(signal.SIGTSTP, suspend)


def restore_signals(saved: dict[signal.Signals, Any]) -> None:
    """The handlers this process had, for a command that runs here after all."""
    for number, handler in saved.items():
        if handler is not None:  # None: set outside Python, left as it is
            signal.signal(number, handler)


def with_child(child: int, number: int) -> None:
    """Send ``number`` to the child, which may have ended already."""
    try:
        os.kill(child, number)
    except ProcessLookupError:
        pass


def start_server(path: str) -> None:
    """Start a command server for ``path`` in the background, in a session of its own, its
    standard streams on /dev/null (it closes every other descriptor it inherits); it gives up
    by itself when another one started first."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        os.posix_spawn(
            sys.executable,
            # -P: not the current folder first on the import path (a checkout there would win)
            [sys.executable, "-P", "-m", "provisioner.command_server", path],
            dict(os.environ),
            file_actions=[(os.POSIX_SPAWN_DUP2, null, descriptor) for descriptor in (0, 1, 2)],
            setsid=True,
            setsigdef=DEFAULT_SIGNALS,
            setsigmask=(),
        )
    except OSError:
        pass  # the command runs here all the same
    finally:
        os.close(null)
