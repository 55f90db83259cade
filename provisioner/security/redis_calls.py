"""One Redis command and its answer on a phone's path, without redis-py's client object.

The nonce store and the miss counter each make one script call per request that needs it.
Through redis-py's client (its pool, retry wrapper, health checks, script cache and general
parser) such a call cost 72 us of the caller's CPU here, against about 12 us for the write
and the read themselves. ``RedisCalls`` keeps its connections in a plain list of idle ones
(redis-py's ``Connection`` still connects them: address, password, database, TLS), writes the
packed command on the socket and reads the answer itself: an integer, or an array of
integers, the only answers these scripts give (``call``); or a value, a string or nothing,
for a GET or a SET (``value``). A connection that was idle gets one retry on
a new connection when it turns out dropped (Redis restarted, or closed it); any other
failure is the caller's to handle (``errors``).

A call may be split (``begin``, then ``finish``): the command goes out at once and the
answer is read later, so the caller's work in between overlaps the round trip.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar, overload

from provisioner.process import process_id

SECONDS = 2  # to connect, and for each write and read
MOST_ANSWER_BYTES = 4096  # far more than an answer of these scripts takes
MOST_VALUE_BYTES = 16 * 1024 * 1024  # a value's declared length beyond this is refused
Read = TypeVar("Read")


def bulk(value: bytes) -> bytes:
    """One RESP bulk string."""
    return b"$%d\r\n%s\r\n" % (len(value), value)


def packed(*parts: bytes) -> bytes:
    """A command as Redis reads it (an array of bulk strings)."""
    return b"*%d\r\n" % len(parts) + b"".join(bulk(part) for part in parts)


def eval_prefix(script: str, keys: int, arguments: int) -> bytes:
    """The fixed start of ``EVAL script keys ...`` with ``keys`` keys and ``arguments``
    arguments: add ``bulk`` of each (made once per script, not per call)."""
    return b"*%d\r\n" % (3 + keys + arguments) + b"".join(
        bulk(part) for part in (b"EVAL", script.encode(), b"%d" % keys)
    )


class RedisCalls:
    """Packed commands on connections kept idle between calls (see the module docstring)."""

    def __init__(self, url: str) -> None:
        import redis
        from redis.connection import ConnectionPool

        # RESP2: no push frames (RESP3's) between a command and its answer.
        pool = ConnectionPool.from_url(
            url, socket_timeout=SECONDS, socket_connect_timeout=SECONDS, protocol=2
        )
        self._make_connection = partial(pool.connection_class, **pool.connection_kwargs)
        self._idle: list[Any] = []
        self._process = process_id()
        # What a failed call raises (for the caller's fallback).
        self.errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        # A connection Redis closed, or that timed out: the one retry on a new connection.
        self._dropped: tuple[type[Exception], ...] = (
            redis.ConnectionError,
            redis.TimeoutError,
            OSError,
        )

    def call(self, command: bytes) -> int | list[int]:
        """``command``'s answer: an integer or an array of integers."""
        return self.finish(command, self.begin(command))

    def value(self, command: bytes) -> bytes | None:
        """``command``'s answer: a string (bulk or simple), or None for Redis's nil."""
        return self.finish(command, self.begin(command), read_value)

    def begin(self, command: bytes) -> Any:
        """Write ``command`` on an idle connection now; that connection for ``finish``, or
        None when there was none or the write failed (``finish`` then makes the call)."""
        if process_id() != self._process:  # a forked worker: the parent's connections are not ours
            self._idle, self._process = [], process_id()
        try:
            idle = self._idle.pop()
        except IndexError:
            return None
        try:
            _send(idle, command)
        except BaseException:
            idle.disconnect()
            return None
        return idle

    @overload
    def finish(self, command: bytes, sent: Any) -> int | list[int]: ...

    @overload
    def finish(self, command: bytes, sent: Any, reader: Callable[[Any], Read]) -> Read: ...

    def finish(self, command: bytes, sent: Any, reader: Callable[[Any], Any] | None = None) -> Any:
        """The answer to ``command`` (read by ``reader``): read on the connection ``begin``
        wrote it on (written now on an idle one if it was not), or from a call on a new
        connection when there was none or it turned out dropped (the one retry)."""
        reader = reader or read_answer
        if sent is None:
            sent = self.begin(command)
        if sent is not None:
            try:
                return self._read(sent, reader)
            except self._dropped:
                pass  # the one retry, below
        connection = self._make_connection()
        try:
            _send(connection, command)
        except BaseException:
            connection.disconnect()
            raise
        return self._read(connection, reader)

    def _read(self, connection: Any, reader: Callable[[Any], Read]) -> Read:
        """The answer on ``connection``; the connection is kept only if reading worked."""
        try:
            answer = reader(connection._sock)
        except BaseException:
            connection.disconnect()
            raise
        self._idle.append(connection)
        return answer

    def close(self) -> None:
        """Close the idle connections (those in use are closed by their failure or kept)."""
        while self._idle:
            self._idle.pop().disconnect()


def _send(connection: Any, command: bytes) -> None:
    """Write ``command`` on the connection's socket, connecting it first if it is not."""
    sock = connection._sock
    if sock is None:
        connection.connect()
        sock = connection._sock
        kernel_timeouts(sock, SECONDS)
    sock.sendall(command)


def kernel_timeouts(sock: socket.socket, seconds: int) -> None:
    """Let the kernel bound each write and read on ``sock`` to ``seconds`` (a read or write
    that times out fails with an OSError), and make the socket blocking for Python. A Python
    socket with a timeout polls before every write and read, each a system call of its own
    that lets go of the GIL: with a worker's threads all busy, each let-go hands the GIL to
    another thread and back, so a Redis call cost four handovers instead of two."""
    interval = struct.pack("ll", seconds, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, interval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, interval)
    sock.settimeout(None)


def read_answer(sock: Any) -> int | list[int]:
    """One RESP answer from ``sock``: an integer (``:1\\r\\n``) or an array of integers
    (``*2\\r\\n:3\\r\\n:59000\\r\\n``). An error answer raises ``ResponseError``, any other
    ``ResponseError`` too, a closed connection ``ConnectionError``."""
    data = b""
    while True:
        data = _received(sock, data, 256)
        answer = _parsed(data)
        if answer is not None:
            return answer
        if len(data) > MOST_ANSWER_BYTES:
            _refuse(data)


def _parsed(data: bytes) -> int | list[int] | None:
    """The answer in ``data``, None while it is not whole."""
    if not data.endswith(b"\r\n"):
        return None
    kind = data[:1]
    if kind == b":" and _is_integer(data[1:-2]):
        return int(data[1:-2])
    if kind == b"*" and _is_integer(data[1 : data.index(b"\r\n")]):
        lines = data[:-2].split(b"\r\n")
        size = int(lines[0][1:])
        if len(lines) < size + 1:
            return None
        integers = (line[:1] == b":" and _is_integer(line[1:]) for line in lines[1:])
        if len(lines) > size + 1 or not all(integers):
            _refuse(data)
        return [int(line[1:]) for line in lines[1:]]
    _refuse(data)
    return None  # not reached


def _is_integer(text: bytes) -> bool:
    """True for a RESP integer's digits (a minus sign first allowed)."""
    return text.lstrip(b"-").isdigit() and text.count(b"-") <= 1


def _refuse(data: bytes) -> None:
    from redis.exceptions import ResponseError

    raise ResponseError(data[:200].decode("utf-8", "replace").strip())


def read_value(sock: Any) -> bytes | None:
    """One RESP string answer from ``sock``: a bulk string (``$5\\r\\nhello\\r\\n``), a
    simple one (``+OK\\r\\n``), or None for nil (``$-1\\r\\n``). An error answer, or any
    other, raises ``ResponseError``; a closed connection ``ConnectionError``."""
    data = _received(sock, b"")
    while b"\r\n" not in data:
        if len(data) > MOST_ANSWER_BYTES:
            _refuse(data)
        data = _received(sock, data)
    header, _, rest = data.partition(b"\r\n")
    kind = header[:1]
    if kind == b"+" and not rest:
        return header[1:]
    if kind != b"$" or not header[1:].lstrip(b"-").isdigit():
        _refuse(data)
    size = int(header[1:])
    if size < 0:
        return None
    if size > MOST_VALUE_BYTES:
        _refuse(header)
    whole = bytearray(rest)
    while len(whole) < size + 2:
        whole += _received(sock, b"", size + 2 - len(whole))
    if len(whole) != size + 2 or whole[size:] != b"\r\n":
        _refuse(bytes(whole[:200]))
    return bytes(whole[:size])


def _received(sock: Any, data: bytes, most: int = 65536) -> bytes:
    """``data`` with what ``sock`` sends next (up to ``most`` bytes); ConnectionError when
    Redis closed the connection, TimeoutError when the kernel's bound on the read passed."""
    try:
        chunk: bytes = sock.recv(most)
    except BlockingIOError as exc:  # SO_RCVTIMEO passed (see kernel_timeouts)
        from redis.exceptions import TimeoutError as RedisTimeoutError

        raise RedisTimeoutError("Timeout reading from Redis") from exc
    if not chunk:
        from redis.exceptions import ConnectionError as RedisConnectionError

        raise RedisConnectionError("Connection closed by server.")
    return data + chunk
