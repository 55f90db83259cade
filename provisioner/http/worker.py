"""The gunicorn worker for production: gunicorn's threaded worker, closing connections
without stopping its loop.

A phone opens a new connection per request, and the server ends each one. gunicorn (27)
closes as RFC 9112 section 9.6 asks: it sends its FIN, then reads until the client closes
too, so no unread byte makes the kernel reset the connection and cut the answer short. The
threaded worker does that wait on its main thread, which also accepts connections and hands
finished requests on: during a boot storm the whole worker waits on the slowest client's
FIN. Here the same close (FIN, then read and discard until the client closes or
``LINGER_SECONDS`` pass) is done by one thread of our own, for every lingering socket at
once, and the worker goes on at once. Use it with ``gunicorn -c gunicorn.conf.py wsgi:app``
(``gunicorn.conf.py`` names it) or ``-k provisioner.http.worker.ThreadWorker``.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker as GunicornThreadWorker  # type: ignore[import-untyped]

log = logging.getLogger(__name__)
LINGER_SECONDS = 2.0
DRAIN_BYTES = 65536  # at most this much is read from a closing client, as gunicorn does


class LingeringCloser:
    """Closes client sockets gracefully from one background thread."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._arriving: deque[socket.socket] = deque()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)  # a full pipe must never block the worker
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._lingering: dict[socket.socket, tuple[float, int]] = {}  # deadline, bytes read
        threading.Thread(target=self._run, name="lingering-close", daemon=True).start()

    def close(self, sock: socket.socket) -> None:
        """Send our FIN now; the socket is closed once the client has closed its side."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
        except OSError:
            _close(sock)
            return
        self._arriving.append(sock)
        try:
            self._wake_writer.send(b"\0")
        except OSError:  # the wake-up pipe is full: the thread is awake anyway
            pass

    def _run(self) -> None:
        while True:
            try:
                for key, _ in self._selector.select(timeout=0.5):
                    if key.fileobj is self._wake_reader:
                        self._take_arrivals()
                    else:
                        self._drain(key.fileobj)  # type: ignore[arg-type]
                self._expire(time.monotonic())
            except Exception:  # the thread must live on, or closing sockets would pile up
                log.exception("lingering close failed; closing every lingering socket")
                for sock in list(self._lingering):
                    self._finish(sock)

    def _take_arrivals(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except OSError:
            pass
        deadline = time.monotonic() + LINGER_SECONDS
        while self._arriving:
            sock = self._arriving.popleft()
            try:
                self._selector.register(sock, selectors.EVENT_READ)
            except (OSError, ValueError):
                _close(sock)
                continue
            self._lingering[sock] = (deadline, 0)

    def _drain(self, sock: socket.socket) -> None:
        deadline, read = self._lingering.get(sock, (0.0, 0))
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data and read + len(data) < DRAIN_BYTES:
            self._lingering[sock] = (deadline, read + len(data))
            return
        self._finish(sock)

    def _expire(self, now: float) -> None:
        for sock, (deadline, _) in list(self._lingering.items()):
            if deadline <= now:
                self._finish(sock)

    def _finish(self, sock: socket.socket) -> None:
        self._lingering.pop(sock, None)
        try:
            self._selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


def _close_connection(closer: LingeringCloser, conn: Any, graceful: bool = False) -> None:
    """A connection's ``close``: graceful ones linger in ``closer``'s thread."""
    if graceful:
        closer.close(conn.sock)
    else:
        _close(conn.sock)


class ThreadWorker(GunicornThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker whose graceful closes do not block its main loop."""

    def init_process(self) -> None:
        self.closer = LingeringCloser()  # in the worker, after the fork
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        if "close" not in vars(conn):
            conn.close = partial(_close_connection, self.closer, conn)
        super().enqueue_req(conn)
