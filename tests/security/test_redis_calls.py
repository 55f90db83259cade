"""One packed command and its answer, read off the socket without redis-py's client: the
answers the scripts give (an integer, an array of integers), whole however they arrive;
an error answer or a closed connection is no answer."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from provisioner.security.redis_calls import (
    MOST_VALUE_BYTES,
    RedisCalls,
    bulk,
    eval_prefix,
    kernel_timeouts,
    packed,
    read_answer,
    read_value,
)
from tests.security.test_nonces import free_tcp_port, start_redis

SCRIPT = "return {tonumber(ARGV[1]) + 1, redis.call('INCR', KEYS[1])}"


def test_an_answer_is_read_whole_however_it_arrives() -> None:
    ours, redis_side = socket.socketpair()
    with ours, redis_side:
        redis_side.sendall(b":")  # an integer in two parts
        threading.Timer(0.05, redis_side.sendall, [b"0\r\n"]).start()
        assert read_answer(ours) == 0
        redis_side.sendall(b"*2\r\n:3\r\n")  # an array, its second element later
        threading.Timer(0.05, redis_side.sendall, [b":-1\r\n"]).start()
        assert read_answer(ours) == [3, -1]


def test_an_error_answer_or_a_closed_connection_raise() -> None:
    ours, redis_side = socket.socketpair()
    with ours, redis_side:
        redis_side.sendall(b"-BUSY Redis is busy running a script\r\n")
        with pytest.raises(redis.ResponseError, match="BUSY"):
            read_answer(ours)
        redis_side.sendall(b"$5\r\nhello\r\n")  # no script of ours answers a string
        with pytest.raises(redis.ResponseError):
            read_answer(ours)
        for malformed in (b":1x\r\n", b"*1\r\n:-\r\n", b"*z\r\n"):
            redis_side.sendall(malformed)  # a ResponseError, which callers handle
            with pytest.raises(redis.ResponseError):
                read_answer(ours)
        redis_side.shutdown(socket.SHUT_WR)
        with pytest.raises(redis.ConnectionError):
            read_answer(ours)


def test_a_value_is_read_whole_however_it_arrives() -> None:
    ours, redis_side = socket.socketpair()
    value = bytes(range(256)) * 300  # any bytes, \r\n among them, over several reads
    with ours, redis_side:
        redis_side.sendall(b"$%d\r" % len(value))  # the header itself split
        threading.Timer(0.05, redis_side.sendall, [b"\n" + value + b"\r\n"]).start()
        assert read_value(ours) == value
        redis_side.sendall(b"$-1\r\n")
        assert read_value(ours) is None
        redis_side.sendall(b"+OK\r\n")
        assert read_value(ours) == b"OK"
        redis_side.sendall(b"$0\r\n\r\n")
        assert read_value(ours) == b""


def test_a_value_redis_would_not_send_is_refused() -> None:
    ours, redis_side = socket.socketpair()
    with ours, redis_side:
        redis_side.sendall(b"-ERR wrong kind\r\n")
        with pytest.raises(redis.ResponseError, match="wrong kind"):
            read_value(ours)
        redis_side.sendall(b":1\r\n")  # an integer is no value
        with pytest.raises(redis.ResponseError):
            read_value(ours)
        redis_side.sendall(b"$%d\r\n" % (MOST_VALUE_BYTES + 1))
        with pytest.raises(redis.ResponseError):
            read_value(ours)
        redis_side.sendall(b"$3\r\nabcd\r\n")  # longer than it said
        with pytest.raises(redis.ResponseError):
            read_value(ours)
        redis_side.sendall(b"$x1\r\n")  # no length
        with pytest.raises(redis.ResponseError):
            read_value(ours)
        redis_side.sendall(b"+OK\r\n:1\r\n")  # more than one answer
        with pytest.raises(redis.ResponseError):
            read_value(ours)
    ours, redis_side = socket.socketpair()
    with ours, redis_side:
        redis_side.sendall(b"$10\r\nabc")
        redis_side.shutdown(socket.SHUT_WR)  # closed mid-value
        with pytest.raises(redis.ConnectionError):
            read_value(ours)


def test_a_value_is_set_and_got_back() -> None:
    calls = RedisCalls("redis://127.0.0.1:6379/0")
    key = f"test:{uuid.uuid4().hex}".encode()
    value = bytes(range(256)) * 64
    try:
        assert calls.value(packed(b"GET", key)) is None
        assert calls.value(packed(b"SET", key, value, b"NX", b"EX", b"60")) == b"OK"
        assert calls.value(packed(b"SET", key, b"other", b"NX", b"EX", b"60")) is None
        assert calls.value(packed(b"GET", key)) == value
        assert calls.call(packed(b"DEL", key)) == 1
    finally:
        calls.close()


def test_a_script_call_gets_the_answer_redis_gives() -> None:
    calls = RedisCalls("redis://127.0.0.1:6379/0")
    key = f"test:{uuid.uuid4().hex}"
    command = eval_prefix(SCRIPT, 1, 1) + bulk(key.encode()) + bulk(b"41")
    try:
        assert calls.call(command) == [42, 1]
        sent = calls.begin(command)  # on the connection the first call left idle
        assert sent is not None
        assert calls.finish(command, sent) == [42, 2]
        assert calls.call(packed(b"DEL", key.encode())) == 1
    finally:
        calls.close()


@pytest.fixture
def silent_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of the test's own (stopped with SIGSTOP by a test: it then takes
    connections and answers nothing)."""
    port = free_tcp_port()
    server = start_redis(port, tmp_path)
    yield f"redis://127.0.0.1:{port}/0", server
    server.send_signal(signal.SIGCONT)
    server.kill()
    server.wait(timeout=10)


def test_a_redis_that_stops_answering_fails_the_call_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch, silent_redis: tuple[str, subprocess.Popen[bytes]]
) -> None:
    """An idle connection's socket is blocking (no poll before each read: a GIL hand-over
    each), and the kernel bounds its reads."""
    from provisioner.security import redis_calls

    monkeypatch.setattr(redis_calls, "SECONDS", 1)
    url, server = silent_redis
    calls = RedisCalls(url)
    assert calls.call(packed(b"DBSIZE")) == 0  # leaves a connection idle
    assert calls._idle[0]._sock.gettimeout() is None
    server.send_signal(signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(calls.errors):
        calls.call(packed(b"DBSIZE"))  # the idle one, then one retry on a new connection
    # Each try waits its second; without the kernel's bound the first would wait forever.
    assert 1.5 < time.monotonic() - started < 6
    calls.close()


def test_a_connection_is_blocking_with_the_kernel_bounding_its_reads() -> None:
    ours, redis_side = socket.socketpair()
    with ours, redis_side:
        kernel_timeouts(ours, 1)
        assert ours.gettimeout() is None
        started = time.monotonic()
        with pytest.raises(OSError):
            ours.recv(16)
        assert 0.5 < time.monotonic() - started < 3
        with pytest.raises(redis.TimeoutError):  # as redis-py says it: a failure callers handle
            read_value(ours)
