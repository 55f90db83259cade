"""One packed command and its answer, read off the socket without redis-py's client: the
answers the scripts give (an integer, an array of integers), whole however they arrive;
an error answer or a closed connection is no answer."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
import redis

from provisioner.security.redis_calls import RedisCalls, bulk, eval_prefix, packed, read_answer

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
        redis_side.shutdown(socket.SHUT_WR)
        with pytest.raises(redis.ConnectionError):
            read_answer(ours)


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
