"""The command server: the `provisioner` command's imports done once, a forked child per command.

Started by ``provisioner.command_client`` (``python -m provisioner.command_server SOCKET``),
it imports what the commands need, listens on SOCKET (mode 0600, in a private folder) and, for
each connection from a process of its own user, forks: the child takes the command's standard
streams, environment, working folder and arguments from the connection and runs the command
as ``provisioner.cli.main`` would in a process of its own; the server sends the child's process
id to the client (which passes Ctrl-C and the like on to it) and, once the child has ended, its
exit status (128 + the signal's number when a signal ended it). The server itself holds no
connection to a database and starts no thread, so every child starts from the same clean
state.

It stops by itself: after ``PROVISIONER_COMMAND_SERVER_IDLE_SECONDS`` (600) without a command,
on SIGTERM, or at the first command after a file of the package or the set of installed
packages changed (that command then runs in the client's own process and starts a new server).
Only one server listens on a socket: a second one finds the first's lock taken and leaves.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import fcntl
import importlib
import io
import json
import os
import pkgutil
import select
import signal
import socket
import struct
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provisioner.command_client import LENGTH, STATUS

IDLE_SECONDS = 600
IDLE_SETTING = "PROVISIONER_COMMAND_SERVER_IDLE_SECONDS"
PACKAGE = Path(__file__).resolve().parent
# Not imported for their own sake: ``python -m provisioner`` (it runs a command), the HTTP side
# (``serve`` runs in the operator's process) and what runs inside FreeSWITCH.
NOT_PRELOADED = (
    "provisioner.__main__",
    "provisioner.http",
    "provisioner.routing.runner",
    "provisioner.callrouting",
)
MAXIMUM_REQUEST = 16 * 1024 * 1024  # arguments and environment: far below this
REQUEST_SECONDS = 30  # a client sends its request at once


def main(argv: list[str] | None = None) -> None:
    """Serve commands on the socket named on the command line until idle, stale or stopped."""
    path = Path((argv if argv is not None else sys.argv[1:])[0])
    os.chdir("/")  # hold no folder of the client's
    with open(f"{path}.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # another server has it
        preload()
        if threading.active_count() > 1:  # forking would copy locks other threads hold
            return
        server = Server(listen(path), lock.fileno(), code_stamp())
        inode = os.stat(path).st_ino  # the socket file's (the socket's own is another)
        try:
            refused = server.serve(idle_seconds())
        finally:
            forget(path, inode)
            server.close()
    if refused is not None:  # its client runs the command itself, once the lock is free
        refused.close()


def preload() -> None:
    """Import what the commands import, the HTTP side aside (``serve`` runs in the client)."""
    import sqlite3  # noqa: F401

    from provisioner import cli

    cli.command_group()
    for module in pkgutil.walk_packages([str(PACKAGE)], "provisioner."):
        if not module.name.startswith(NOT_PRELOADED):
            with contextlib.suppress(ImportError):
                importlib.import_module(module.name)


def idle_seconds() -> float:
    """How long the server waits for a command before it stops."""
    try:
        return float(os.environ.get(IDLE_SETTING, IDLE_SECONDS))
    except ValueError:
        return IDLE_SECONDS


def code_stamp(package: Path = PACKAGE) -> tuple[int, int]:
    """What tells that the code changed: the newest modification time among the package's
    Python files, and that of the folder packages are installed in (an install or an upgrade
    adds and removes entries there)."""
    newest = max((entry.stat().st_mtime_ns for entry in python_files(package)), default=0)
    try:
        installed = os.stat(sysconfig.get_paths()["purelib"]).st_mtime_ns
    except OSError:
        installed = 0
    return newest, installed


def python_files(folder: Path) -> Iterator[os.DirEntry[str]]:
    """The ``.py`` files under ``folder``."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                yield from python_files(Path(entry.path))
            elif entry.name.endswith(".py"):
                yield entry


def listen(path: Path) -> socket.socket:
    """A listening socket at ``path`` that only this user may connect to (a stale socket
    file of an earlier server is replaced: the lock says none is running)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_mask)
    listener.listen(64)
    return listener


def forget(path: Path, inode: int) -> None:
    """Remove the socket file, unless another server's has replaced it."""
    with contextlib.suppress(OSError):
        if os.stat(path).st_ino == inode:
            path.unlink()


class Server:
    """The accept loop, and the children running commands (process id -> its client)."""

    def __init__(self, listener: socket.socket, lock: int, stamp: tuple[int, int]) -> None:
        self.listener = listener
        self.lock = lock
        self.stamp = stamp
        self.waking, self.wake_up = socket.socketpair()
        self.running: dict[int, socket.socket] = {}

    def serve(self, idle: float) -> socket.socket | None:
        """Accept commands until no command came for ``idle`` seconds (and none is running),
        SIGTERM, or a command after the code changed: that command's connection is returned
        (to be closed once this server is gone)."""
        for own in (self.waking, self.wake_up):
            own.setblocking(False)
        signal.set_wakeup_fd(self.wake_up.fileno())
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the select below
        signal.signal(signal.SIGTERM, lambda *_: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        last = time.monotonic()
        while True:
            timeout = None if self.running else max(0.0, last + idle - time.monotonic())
            readable, _, _ = select.select([self.listener, self.waking], [], [], timeout)
            if self.waking in readable and signal.SIGTERM in drained(self.waking):
                return None
            self.report_ended()
            if self.listener in readable:
                last = time.monotonic()
                connection, _ = self.listener.accept()
                if not same_user(connection):
                    connection.close()
                elif code_stamp() != self.stamp:
                    return connection
                else:
                    self.start_child(connection)
            elif not readable and not self.running:
                return None  # idle

    def report_ended(self) -> None:
        """Send each ended child's exit status to its client."""
        while self.running:
            try:
                child, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if child == 0:
                return
            connection = self.running.pop(child, None)
            if connection is None:
                continue
            with contextlib.suppress(OSError):
                connection.sendall(STATUS.pack(exit_status(wait_status)))
            connection.close()

    def start_child(self, connection: socket.socket) -> None:
        """Fork the child that runs the command on ``connection``; tell the client its id."""
        child = os.fork()
        if child == 0:
            status = 1
            try:
                signal.set_wakeup_fd(-1)
                self.close()
                os.close(self.lock)
                status = run_child(connection)
            finally:
                os._exit(status)
        self.running[child] = connection
        with contextlib.suppress(OSError):
            connection.sendall(STATUS.pack(child))

    def close(self) -> None:
        """Close the server's socket, wake-up pair and clients (the lock is main's)."""
        for own in (self.listener, self.waking, self.wake_up, *self.running.values()):
            own.close()


def drained(waking: socket.socket) -> set[int]:
    """The signals that woke the server up."""
    received: set[int] = set()
    with contextlib.suppress(BlockingIOError):
        while data := waking.recv(64):
            received.update(data)
    return received


def same_user(connection: socket.socket) -> bool:
    """Whether the connecting process runs as this server's user (SO_PEERCRED)."""
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
    )
    _, user, _ = struct.unpack("3i", credentials)
    return bool(user == os.getuid())


def exit_status(wait_status: int) -> int:
    """A shell's exit status for a child's wait status: its code, or 128 + the signal."""
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    return os.waitstatus_to_exitcode(wait_status)


def run_child(connection: socket.socket) -> int:
    """In the child: become the command the client asked for, run it, return its status."""
    for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    connection.settimeout(REQUEST_SECONDS)
    try:
        request = receive(connection)
    except (OSError, ValueError):
        return 1
    connection.close()
    return run_command(request)


def receive(connection: socket.socket) -> dict[str, Any]:
    """The client's request, its standard streams put in place of this process's."""
    head, descriptors = _receive_with_descriptors(connection)
    (length,) = LENGTH.unpack(head)
    if length > MAXIMUM_REQUEST or len(descriptors) != 3:
        raise ValueError("not a command")
    body = b""
    while len(body) < length:
        chunk = connection.recv(length - len(body))
        if not chunk:
            raise ValueError("the request ended early")
        body += chunk
    for target, descriptor in enumerate(descriptors):
        os.dup2(descriptor, target)
        os.close(descriptor)
    request: dict[str, Any] = json.loads(body)
    return request


def _receive_with_descriptors(connection: socket.socket) -> tuple[bytes, list[int]]:
    """The request's length, and the descriptors sent with it."""
    room = socket.CMSG_SPACE(3 * array.array("i").itemsize)
    head, ancillary, _, _ = connection.recvmsg(LENGTH.size, room)
    descriptors = array.array("i")
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            descriptors.frombytes(data[: len(data) - len(data) % descriptors.itemsize])
    while len(head) < LENGTH.size:
        chunk = connection.recv(LENGTH.size - len(head))
        if not chunk:
            raise ValueError("the request ended early")
        head += chunk
    return head, list(descriptors)


def run_command(request: dict[str, Any]) -> int:
    """Run ``provisioner`` with the request's arguments, environment and folder."""
    os.environ.clear()
    os.environ.update(request["environment"])
    time.tzset()
    os.chdir(request["folder"])
    sys.stdin, sys.stdout, sys.stderr = (
        standard_stream(descriptor, encodings)
        for descriptor, encodings in enumerate(request["encodings"])
    )
    sys.argv = ["provisioner", *request["arguments"]]
    status = 0
    try:
        from provisioner.cli import main as run_here

        run_here()
    except SystemExit as stopped:
        status = status_of(stopped.code)
    except BaseException as failed:  # as the interpreter ends: the traceback, status 1 (130
        traceback.print_exc()  # for Ctrl-C before the command could take it)
        status = 128 + signal.SIGINT if isinstance(failed, KeyboardInterrupt) else 1
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return status


def standard_stream(descriptor: int, encodings: list[str] | None) -> io.TextIOWrapper:
    """A text stream on ``descriptor`` as the client's interpreter had it: its encoding and
    error handler; line-buffered on a terminal, and standard error always."""
    encoding, errors = encodings or ("utf-8", "strict")
    interactive = os.isatty(descriptor)
    raw = io.FileIO(descriptor, "rb" if descriptor == 0 else "wb", closefd=False)
    buffered: io.BufferedReader | io.BufferedWriter = (
        io.BufferedReader(raw) if descriptor == 0 else io.BufferedWriter(raw)
    )
    return io.TextIOWrapper(
        buffered,
        encoding=encoding,
        errors=errors,
        line_buffering=interactive or descriptor == 2,
        write_through=descriptor == 2,
    )


def status_of(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives: a number as is, None 0, anything else printed
    and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    main()
