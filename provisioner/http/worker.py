"""The gunicorn worker for production: gunicorn's threaded worker, with each new connection
served by the thread that accepts it, and closes that do not stop any loop.

A phone opens a new connection per request. gunicorn's threaded worker accepts it on its main
thread, hands it to a pool (a future), where a thread waits on a selector of its own for the
request, answers, and hands the connection back to the main thread to keep or close: four
hand-overs between threads for one request. Here the threads take turns waiting on the
listeners (one waits, the others wait for their turn), and the one that accepts a connection
reads its request, answers, and closes it, or answers the next request its client sends; a
connection with nothing to read within ``FIRST_DATA_SECONDS`` (``NEXT_REQUEST_SECONDS`` once
answered) goes to the main loop's poller, where gunicorn's own threaded worker takes it up
again, so slow and idle clients hold no serving thread.

The headers of an answer go out with its body in one send (``HeldHeaders``). A client that
said its request was its last (``Connection: close``, as phones do) and sent no body is closed
at once when nothing it sent is left unread. Any other closing connection is closed as RFC 9112
section 9.6 asks (our FIN, then read and discard until the client closes or
``LINGER_SECONDS`` pass) by one thread of our own for every such socket, so no unread byte
makes the kernel reset the connection and cut the answer short, and no serving thread waits
on a client's FIN. Use it with
``gunicorn -c gunicorn.conf.py wsgi:app`` (``gunicorn.conf.py`` names it) or
``-k provisioner.http.worker.ThreadWorker``.
"""

from __future__ import annotations

import logging
import select
import selectors
import socket
import threading
import time
from collections import deque
from concurrent import futures
from functools import partial
from typing import Any

from gunicorn.workers.gthread import (  # type: ignore[import-untyped]
    _DEFER,
    STOP_KEEPALIVE_LINGER,
    TConn,
)
from gunicorn.workers.gthread import (
    ThreadWorker as GunicornThreadWorker,
)

log = logging.getLogger(__name__)
LINGER_SECONDS = 2.0
DRAIN_BYTES = 65536  # at most this much is read from a closing client, as gunicorn does
ACCEPT_WAIT_SECONDS = 0.5  # how often the thread on the listeners looks at the worker's state
# A new connection's request is awaited this long by the thread that accepted it, the next
# request on a kept-alive one this long; then the connection waits in the main loop's poller.
FIRST_DATA_SECONDS = 0.1
NEXT_REQUEST_SECONDS = 0.05
BODY_HEADERS = frozenset({"CONTENT-LENGTH", "TRANSFER-ENCODING"})  # gunicorn's upper-case names


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


class HeldHeaders:
    """A client socket whose response headers wait for the first body bytes, so the two go out
    in one send (gunicorn sends them apart: on loopback, each send costs the delivery too).

    Only a final response's header block is held (never a 1xx, which the client waits for);
    anything else done with the socket sends what is held first."""

    __slots__ = ("_sock", "_held")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._held = b""

    @property
    def raw(self) -> socket.socket:
        return self._sock

    def sendall(self, data: bytes, flags: int = 0) -> None:
        if self._held:
            data, self._held = self._held + bytes(data), b""
        elif data[:5] == b"HTTP/" and data[9:10] != b"1" and data[-4:] == b"\r\n\r\n":
            self._held = bytes(data)
            return
        self._sock.sendall(data, flags)

    def flush(self) -> None:
        """Send what is held (a response without body bytes)."""
        if self._held:
            held, self._held = self._held, b""
            self._sock.sendall(held)

    def __getattr__(self, name: str) -> Any:
        self.flush()
        return getattr(self._sock, name)


def _close_connection(closer: LingeringCloser, conn: Any, graceful: bool = False) -> None:
    """A connection's ``close``: graceful ones linger in ``closer``'s thread."""
    sock = conn.sock
    if isinstance(sock, HeldHeaders):
        try:
            sock.flush()
        except OSError:
            graceful = False
        sock = sock.raw
    if graceful:
        closer.close(sock)
    else:
        _close(sock)


def _readable(sock: socket.socket, seconds: float) -> bool:
    """Whether ``sock`` has bytes (or its client's close) to read within ``seconds``."""
    waiting = select.poll()
    waiting.register(sock, select.POLLIN)
    try:
        return bool(waiting.poll(seconds * 1000))
    except OSError:
        return True  # let the read that follows meet the error


def _peek(sock: socket.socket) -> bytes | None:
    """The next byte the client sent, left unread; b"" once it has closed (or the socket
    failed: nothing to linger for), None while it has sent nothing more."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def _nothing_unread(conn: Any, sock: socket.socket) -> bool:
    """True when neither the parser nor the socket holds a byte of the client's."""
    buffered = conn.parser is not None and conn.parser.unreader.buf.getvalue()
    return not buffered and not _peek(sock)


class ThreadWorker(GunicornThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker, with new connections served by the threads that accept
    them (see the module's docstring)."""

    def init_process(self) -> None:
        # In the worker, after the fork.
        self.closer = LingeringCloser()
        self._accept_lock = threading.Lock()
        self._servers: list[threading.Thread] = []
        self._serving = 0
        self._serving_lock = threading.Lock()
        super().init_process()

    def set_accept_enabled(self, enabled: bool) -> None:
        # The serving threads accept; the main loop's poller never watches the listeners.
        if enabled and not self._servers:
            for listener in self.sockets:
                listener.setblocking(False)
            for number in range(self.cfg.threads):
                thread = threading.Thread(
                    target=self._accept_and_serve, name=f"serve-{number}", daemon=True
                )
                self._servers.append(thread)
                thread.start()
        self._accepting = enabled

    def run(self) -> None:
        super().run()
        # The main loop has stopped; requests the serving threads had begun may finish.
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while self._serving and time.monotonic() < deadline:
            self.notify()
            time.sleep(0.05)

    def _accept_and_serve(self) -> None:
        """One at a time, a thread waits on the listeners (the others wait for their turn),
        then serves what it accepted while another thread waits."""
        listeners = {listener.fileno(): listener for listener in self.sockets}
        waiting = select.poll()
        for fileno in listeners:
            waiting.register(fileno, select.POLLIN)
        while self.alive:
            with self._accept_lock:
                accepted = self._accept(waiting, listeners) if self._accepting else None
            if accepted is None:
                if not self._accepting:
                    time.sleep(ACCEPT_WAIT_SECONDS)
                continue
            with self._serving_lock:
                self._serving += 1
            try:
                self._serve(*accepted)
            except BaseException:  # noqa: BLE001 - the thread must live on (an app's
                # SystemExit too): without it the worker would accept nothing, yet look alive
                log.exception("serving a connection failed")
            finally:
                with self._serving_lock:
                    self._serving -= 1

    def _accept(
        self, waiting: select.poll, listeners: dict[int, socket.socket]
    ) -> tuple[socket.socket, Any, socket.socket] | None:
        try:
            ready = waiting.poll(ACCEPT_WAIT_SECONDS * 1000)
        except OSError:
            return None
        for fileno, _ in ready:
            if not self.alive:  # stopping: the connection is left to the other workers
                return None
            listener = listeners[fileno]
            try:
                sock, client = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue  # another worker took it
            except AttributeError:  # the listener was closed: the worker is stopping
                return None
            except OSError:  # out of descriptors, say: the listener stays readable
                log.warning("accepting a connection failed", exc_info=True)
                time.sleep(ACCEPT_WAIT_SECONDS)
                return None
            return sock, client, listener
        return None

    def _serve(self, sock: socket.socket, client: Any, listener: socket.socket) -> None:
        """Answer the connection's requests while its client keeps them coming; an idle one
        goes to the main loop's poller (as gunicorn's threaded worker keeps it)."""
        answering = sock if self.cfg.is_ssl else HeldHeaders(sock)
        conn = TConn(self.cfg, answering, client, listener.getsockname())
        # Every connection is made here, so every close (also gunicorn's, after a hand-over)
        # lingers on our closer's thread.
        conn.close = partial(_close_connection, self.closer, conn)
        try:
            self._answer_while_asked(conn)
        except BaseException:
            conn.close()  # never left to the garbage collector
            raise

    def _answer_while_asked(self, conn: Any) -> None:
        """Answer requests until the connection is closed or handed over."""
        answered = False
        while True:
            # The socket read: TLS replaces the accepted one with its wrapped socket.
            sock: Any = conn.sock.raw if isinstance(conn.sock, HeldHeaders) else conn.sock
            buffered = answered and (
                conn.parser.unreader.buf.getvalue() or (self.cfg.is_ssl and sock.pending())
            )
            if not buffered:
                if not self.alive:  # stopping: a request on its way is still answered (closed)
                    wait = STOP_KEEPALIVE_LINGER
                else:
                    wait = NEXT_REQUEST_SECONDS if answered else FIRST_DATA_SECONDS
                if not _readable(sock, wait):
                    if self.alive:
                        self._hand_over(conn, True if answered else _DEFER)
                        return
                    if wait != STOP_KEEPALIVE_LINGER:  # the stop began while waiting
                        continue
                    conn.close(graceful=answered)
                    return
                if answered and not self.cfg.is_ssl and _peek(sock) == b"":
                    conn.close()  # the client closed, nothing left unread: no need to linger
                    return
            conn.data_ready = True
            conn.asked_to_close = False
            keepalive = self.handle(conn)
            if keepalive is not True:
                clean = conn.asked_to_close and _nothing_unread(conn, sock)
                conn.close(graceful=not clean)
                return
            answered = True

    def handle(self, conn: Any) -> Any:
        result = super().handle(conn)
        if isinstance(conn.sock, HeldHeaders):
            try:  # an answer without body bytes (HEAD, 204, 304), sent by this thread
                conn.sock.flush()
            except OSError:
                return False
        return result

    def handle_request(self, req: Any, conn: Any) -> bool:
        keepalive: bool = super().handle_request(req, conn)
        # The client said this was its last request and sent no body: once nothing is left
        # unread, closing at once cannot reset the connection (RFC 9112 sections 9.3, 9.6).
        conn.asked_to_close = (
            req.should_close()
            and not self.cfg.is_ssl
            and not any(name in BODY_HEADERS for name, _ in req.headers)
        )
        return keepalive

    def _hand_over(self, conn: Any, result: object) -> None:
        """Give a connection with nothing to read yet to the main loop's poller."""
        conn.data_ready = False
        done: futures.Future[object] = futures.Future()
        done.set_result(result)
        self.method_queue.defer(self._adopt, conn, done)

    def _adopt(self, conn: Any, done: futures.Future[object]) -> None:
        self.nr_conns += 1  # on the main thread, which counts the connections it holds
        self.finish_request(conn, done)
