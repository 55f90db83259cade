"""The command server: the `provisioner` command's imports done once, a forked child per command.

Started by ``provisioner.command_client`` (``python -m provisioner.command_server SOCKET``),
it closes every descriptor it inherited, takes the socket's lock, listens on SOCKET (mode 0600,
in a private folder), then imports what the commands need. For each connection from a process
of its own user it forks: the child takes the command's standard streams, environment, umask,
working folder and arguments from the connection, waits for the client's go (see the client's
module for the exchange) and runs the command as ``provisioner.cli.main`` would in a process of
its own. The server sends the child's process id, and once the child has ended its exit status
(minus the signal's number when a signal ended it); a child whose client went away is hung up
(SIGHUP). The server itself holds no connection to a database and starts no thread, so every
child starts from the same clean state.

It stops by itself after ``PROVISIONER_COMMAND_SERVER_IDLE_SECONDS`` (600) without a command,
on SIGTERM, or at the first command after the package's files, the installed packages or the
interpreter changed (that command then runs in the client's own process and starts a new
server). Stopping, it first gives up its socket and lock (a new server may start at once), then
waits for its running commands and sends their statuses. Only one server listens on a socket:
a second one finds the lock taken and leaves. What keeps a server from serving is written to
``SOCKET.log``.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import fcntl
import hashlib
import importlib
import io
import json
import math
import os
import select
import signal
import socket
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provisioner.command_client import (
    GO,
    LENGTH,
    NUMBER,
    REFUSED,
    is_private_folder,
    peer_user,
    read_exactly,
)

IDLE_SECONDS = 600.0
IDLE_SETTING = "PROVISIONER_COMMAND_SERVER_IDLE_SECONDS"
PACKAGE = Path(__file__).resolve().parent
# Not imported for their own sake: ``python -m provisioner`` (it runs a command), the HTTP side
# (``serve`` runs in the operator's process), what runs inside FreeSWITCH, and Alembic's
# scripts (Alembic runs them).
NOT_PRELOADED = (
    "provisioner.__main__",
    "provisioner.http",
    "provisioner.routing.runner",
    "provisioner.callrouting",
    "provisioner.store.migrations",
)
MAXIMUM_REQUEST = 16 * 1024 * 1024  # arguments and environment: far below this
REQUEST_SECONDS = 30  # a client sends its request, and its go, at once
PRIVATE_FILE = os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


def main(argv: list[str] | None = None) -> None:
    """Serve commands on the socket named on the command line until idle, stale or stopped."""
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # the first client's other descriptors
    path = Path((argv if argv is not None else sys.argv[1:])[0]).absolute()
    os.chdir("/")  # hold no folder of the client's
    if not is_private_folder(str(path.parent)):
        return
    lock = os.open(f"{path}.lock", os.O_RDWR | PRIVATE_FILE, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock)
        return  # another server has it
    server = start(path, lock)
    if server is None:
        os.close(lock)
        return
    refused = None
    try:
        refused = server.serve(idle_seconds())
    finally:
        server.stop_listening()
        forget(path, server.inode)
        os.close(lock)  # a new server may start now
        if refused is not None:
            with contextlib.suppress(OSError):
                refused.sendall(NUMBER.pack(REFUSED))
            refused.close()
        server.finish()


def start(path: Path, lock: int) -> Server | None:
    """Listen, then import; None (and a line in the log) when either fails."""
    stamp = code_stamp()  # before importing: a change made meanwhile is a change
    try:
        listener = listen(path)
    except OSError as error:
        note(path, f"cannot listen: {error}")
        return None
    for failure in preload():
        note(path, f"not imported beforehand (a command will import it):\n{failure}")
    if threading.active_count() > 1:  # forking would copy locks other threads hold
        note(path, "an import started a thread: commands run in their own processes")
        listener.close()
        forget(path, os.stat(path).st_ino)
        return None
    return Server(listener, os.stat(path).st_ino, lock, stamp)


def note(path: Path, message: str) -> None:
    """Append ``message`` to the server's log beside its socket."""
    with contextlib.suppress(OSError):
        descriptor = os.open(f"{path}.log", os.O_WRONLY | os.O_APPEND | PRIVATE_FILE, 0o600)
        with os.fdopen(descriptor, "a") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S%z')} pid {os.getpid()}: {message}\n")


def preload() -> list[str]:
    """Import what the commands import: every module of the package but ``NOT_PRELOADED``
    (which the others may still import), found on disk so no package is imported just to
    look inside it. The tracebacks of those that failed."""
    failures = []
    for file in python_files(PACKAGE):
        if not file.name.endswith(".py"):
            continue
        parts = Path(file.path).relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith(NOT_PRELOADED):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - noted; the command that needs it says why
                failures.append(traceback.format_exc())
    return failures


def idle_seconds() -> float:
    """How long the server waits for a command before it stops."""
    try:
        seconds = float(os.environ.get(IDLE_SETTING, IDLE_SECONDS))
    except ValueError:
        return IDLE_SECONDS
    return seconds if math.isfinite(seconds) and seconds >= 0 else IDLE_SECONDS


def code_stamp(package: Path = PACKAGE) -> str:
    """What tells that the code changed: every folder and Python file of the package (its
    path, size and modification time), the folder packages are installed in (an install or
    upgrade changes its entries) and the interpreter itself."""
    digest = hashlib.sha256()
    others = [sysconfig.get_paths()["purelib"], os.path.realpath(sys.executable)]
    modules = (found.path for found in python_files(package) if found.name.endswith(".py"))
    for entry in [*modules, *others]:
        with contextlib.suppress(OSError):
            info = os.stat(entry)
            digest.update(f"{entry}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def python_files(folder: Path) -> Iterator[os.DirEntry[str]]:
    """The ``.py`` files and the folders under ``folder``, in a stable order."""
    with os.scandir(folder) as found:
        entries = sorted(found, key=lambda entry: entry.name)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
            yield entry
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
    except OSError:
        listener.close()
        raise
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

    def __init__(self, listener: socket.socket, inode: int, lock: int, stamp: str) -> None:
        self.listener = listener
        self.inode = inode  # the socket file's (the socket's own is another)
        self.lock = lock
        self.stamp = stamp
        self.waking, self.wake_up = socket.socketpair()
        self.running: dict[int, socket.socket] = {}
        self.poll = select.poll()
        self.last = time.monotonic()  # when a command last came or ended

    def serve(self, idle: float) -> socket.socket | None:
        """Accept commands until no command came for ``idle`` seconds (and none is running),
        SIGTERM, or a command after the code changed: that command's connection is returned
        (it is refused once this server has let go of its socket)."""
        for own in (self.waking, self.wake_up):
            own.setblocking(False)
        signal.set_wakeup_fd(self.wake_up.fileno())
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the poll below
        signal.signal(signal.SIGTERM, lambda *_: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.poll.register(self.listener, select.POLLIN)
        self.poll.register(self.waking, select.POLLIN)
        while True:
            timeout = None if self.running else max(0.0, self.last + idle - time.monotonic())
            events = dict(self.poll.poll(None if timeout is None else timeout * 1000))
            if self.waking.fileno() in events and signal.SIGTERM in drained(self.waking):
                return None
            self.report_ended()
            self.hang_up_abandoned(events)
            if self.listener.fileno() in events:
                self.last = time.monotonic()
                try:
                    connection, _ = self.listener.accept()
                except OSError:  # gone before it was taken, or no descriptor left
                    continue
                if peer_user(connection) != os.getuid():
                    connection.close()
                elif code_stamp() != self.stamp:
                    return connection
                else:
                    self.start_child(connection)
            elif not events and not self.running:
                return None  # idle

    def stop_listening(self) -> None:
        """Take no more commands."""
        self.poll.unregister(self.listener)
        self.listener.close()

    def finish(self) -> None:
        """Wait for the running commands and send their statuses (SIGTERM no longer stops
        the server: it would cut the commands' clients off)."""
        while True:
            self.report_ended()  # first: a child may have ended with the stop's signal
            if not self.running:
                return
            events = dict(self.poll.poll())
            drained(self.waking)
            self.hang_up_abandoned(events)

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
            self.last = time.monotonic()
            if connection is None:
                continue
            with contextlib.suppress(KeyError):  # hung up already
                self.poll.unregister(connection)
            with contextlib.suppress(OSError):
                connection.sendall(NUMBER.pack(exit_status(wait_status)))
            connection.close()

    def hang_up_abandoned(self, events: dict[int, int]) -> None:
        """SIGHUP to each child whose client went away (it would run on unwatched), and a
        SIGCONT after it, as the system does, for one stopped with its client."""
        for child, connection in self.running.items():
            if events.get(connection.fileno(), 0) & (select.POLLRDHUP | select.POLLHUP):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGHUP)
                    os.kill(child, signal.SIGCONT)
                self.poll.unregister(connection)

    def start_child(self, connection: socket.socket) -> None:
        """Fork the child that runs the command on ``connection``; tell the client its id (or
        close the connection when no child can be made: the client runs the command)."""
        try:
            child = os.fork()
        except OSError:
            connection.close()
            return
        if child == 0:
            status = 1
            try:
                signal.set_wakeup_fd(-1)
                self.close_in_child()
                status = run_child(connection)
            finally:
                os._exit(status)
        self.running[child] = connection
        self.poll.register(connection, select.POLLRDHUP)
        with contextlib.suppress(OSError):
            connection.sendall(NUMBER.pack(child))

    def close_in_child(self) -> None:
        """Close what is the server's own: its socket, lock, wake-up pair, other clients."""
        for own in (self.listener, self.waking, self.wake_up, *self.running.values()):
            own.close()
        os.close(self.lock)


def drained(waking: socket.socket) -> set[int]:
    """The signals that woke the server up."""
    received: set[int] = set()
    with contextlib.suppress(BlockingIOError):
        while data := waking.recv(64):
            received.update(data)
    return received


def exit_status(wait_status: int) -> int:
    """What the client is told of a child's end: its exit code, or minus the number of the
    signal that ended it (the client then ends by the same signal)."""
    return os.waitstatus_to_exitcode(wait_status)


def run_child(connection: socket.socket) -> int:
    """In the child: become the command the client asked for and, once it says go, run it;
    return its status (0 without a go: nothing ran, nothing to report)."""
    for number in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    connection.settimeout(REQUEST_SECONDS)
    try:
        request = receive(connection)
        go = connection.recv(len(GO))
    except (OSError, ValueError):
        return 1
    connection.close()
    if go != GO:
        return 0
    return run_command(request)


def receive(connection: socket.socket) -> dict[str, Any]:
    """The client's request, its standard streams put in place of this process's."""
    head, descriptors = _receive_with_descriptors(connection)
    (length,) = LENGTH.unpack(head)
    if length > MAXIMUM_REQUEST or len(descriptors) != 3:
        raise ValueError("not a command")
    body = read_exactly(connection, length)
    if body is None:
        raise ValueError("the request ended early")
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
    whole = read_exactly(connection, LENGTH.size, head)
    if whole is None:
        raise ValueError("the request ended early")
    return whole, list(descriptors)


def run_command(request: dict[str, Any]) -> int:
    """Run ``provisioner`` with the request's arguments, environment, umask and folder."""
    os.environ.clear()
    os.environ.update(request["environment"])
    time.tzset()
    os.umask(request["umask"])
    streams = [
        standard_stream(descriptor, encodings)
        for descriptor, encodings in enumerate(request["encodings"])
    ]
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.argv = ["provisioner", *request["arguments"]]
    try:
        os.chdir(request["folder"])
    except OSError as failed:  # the working folder is gone, say
        print(f"provisioner: {failed}", file=sys.stderr)
        return 1
    status = 0
    try:
        from provisioner.cli import main as run_here

        run_here()
    except SystemExit as stopped:
        status = status_of(stopped.code)
    except BaseException as failed:  # as the interpreter ends: the traceback, status 1 (and
        traceback.print_exc()  # for Ctrl-C before the command took it, death by SIGINT)
        status = -signal.SIGINT if isinstance(failed, KeyboardInterrupt) else 1
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()
    for stream in streams:
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - as CPython: output that could not be written
            status = status or 120
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    return status


def standard_stream(descriptor: int, encodings: list[str] | None) -> io.TextIOWrapper:
    """A text stream on ``descriptor`` as the client's interpreter had it: its encoding and
    error handler, "\\n" lines; standard output line-buffered on a terminal, standard error
    always (CPython's rules)."""
    encoding, errors = encodings or ("utf-8", "strict")
    raw = io.FileIO(descriptor, "rb" if descriptor == 0 else "wb", closefd=False)
    buffered: io.BufferedReader | io.BufferedWriter = (
        io.BufferedReader(raw) if descriptor == 0 else io.BufferedWriter(raw)
    )
    return io.TextIOWrapper(
        buffered,
        encoding=encoding,
        errors=errors,
        newline="\n",
        line_buffering=descriptor != 0 and (descriptor == 2 or os.isatty(descriptor)),
        write_through=bool(getattr(sys.__stdout__, "write_through", False)),  # -u, as started
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
